// The demo shop: listing, item pages, cart, like, rating, a video-like player, the
// "recommended for you" rail and the cluster panel. It talks to the same server through the
// public API (with the write key) and three small /demo/api helpers; every interaction goes
// through the tracker on window.centroid, exactly as a real site's would.
(function () {
  "use strict";

  var main = document.getElementById("main");
  var key = (window.CENTROID_DEMO || {}).writeKey || "";
  var clusters = null;
  var stopWatching = null;
  var player = null;

  function h(tag, attrs) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (name === "text") node.textContent = attrs[name];
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), attrs[name]);
      else node.setAttribute(name, attrs[name]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
    return node;
  }

  function getJson(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + key } }).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }

  // A tile in place of a product image: the catalogue may have none (MovieLens has none).
  function tile(item) {
    var attributes = item || {};
    if (attributes.image_url) return h("img", { src: attributes.image_url, alt: "" });
    var name = attributes.title || attributes.content_id || "?";
    var hue = 0;
    for (var i = 0; i < name.length; i++) hue = (hue * 31 + name.charCodeAt(i)) % 360;
    return h("div", { class: "tile", style: "--hue:" + hue, text: name.slice(0, 1) });
  }

  function card(item) {
    return h(
      "a",
      { class: "card", href: "#/i/" + encodeURIComponent(item.content_id) },
      tile(item),
      h("span", { class: "title", text: item.title || item.content_id }),
      item.price != null
        ? h("span", { class: "price", text: Number(item.price).toFixed(2) })
        : null,
    );
  }

  function show() {
    main.replaceChildren.apply(main, arguments);
  }

  function categoriesNav() {
    return getJson("/demo/api/categories")
      .then(function (answer) {
        var nav = document.getElementById("nav");
        nav.replaceChildren();
        answer.categories.slice(0, 8).forEach(function (c) {
          nav.appendChild(h("a", { href: "#/c/" + encodeURIComponent(c.name), text: c.name }));
        });
        return answer;
      })
      .catch(function () {
        return { categories: [], n_items: 0 };
      });
  }

  function home() {
    categoriesNav().then(function (answer) {
      var grid = h("div", { class: "categories" });
      answer.categories.forEach(function (c) {
        grid.appendChild(
          h(
            "a",
            { href: "#/c/" + encodeURIComponent(c.name), class: "category" },
            h("strong", { text: c.name }),
            h("span", { class: "muted", text: c.n_items + " items" }),
          ),
        );
      });
      show(
        h("h1", { text: "Browse the catalogue" }),
        h("p", {
          class: "muted",
          text:
            answer.n_items +
            " items. Open a few of one category, like one, rate one, add one to the cart or " +
            "watch its trailer, and see the rail below and the panel change.",
        }),
        grid,
      );
    });
  }

  // Popular items of the category (the global list, filtered), else the catalogue's first.
  // The global list ranks by the server's default metric (`engagement`).
  function listing(category) {
    show(h("h1", { text: category }), h("p", { class: "muted", text: "Loading…" }));
    var query =
      "/v1/recommendations?cluster=global&limit=24&include=attributes&category=" +
      encodeURIComponent(category);
    getJson(query)
      .then(function (answer) {
        var items = answer.items
          .filter(function (i) {
            return i.attributes;
          })
          .map(function (i) {
            return i.attributes;
          });
        if (items.length) return items;
        return getJson("/demo/api/items?limit=24&category=" + encodeURIComponent(category)).then(
          function (answer) {
            return answer.items;
          },
        );
      })
      .then(function (items) {
        var grid = h("div", { class: "grid" });
        items.forEach(function (item) {
          grid.appendChild(card(item));
        });
        show(h("h1", { text: category }), grid);
      })
      .catch(function () {
        show(h("h1", { text: category }), h("p", { text: "The catalogue is unreachable." }));
      });
  }

  // A stand-in for a <video> element: same properties and events, no media file needed.
  function FakePlayer(duration) {
    var target = document.createElement("span");
    var timer = null;
    target.duration = duration;
    target.currentTime = 0;
    target.paused = true;
    target.seeking = false;
    target.playbackRate = 1;
    function fire(name) {
      target.dispatchEvent(new Event(name));
    }
    target.play = function () {
      if (!target.paused) return;
      target.paused = false;
      fire("play");
      timer = setInterval(function () {
        target.currentTime = Math.min(target.duration, target.currentTime + 0.25);
        fire("timeupdate");
        if (target.currentTime >= target.duration) {
          target.pause();
          fire("ended");
        }
      }, 250);
    };
    target.pause = function () {
      if (target.paused) return;
      clearInterval(timer);
      target.paused = true;
      fire("pause");
    };
    target.seek = function (to) {
      target.seeking = true;
      fire("seeking");
      target.currentTime = Math.max(0, Math.min(target.duration, to));
      target.seeking = false;
      fire("seeked");
      fire("timeupdate");
    };
    return target;
  }

  function playerView(item) {
    player = FakePlayer(90);
    var bar = h("div", { class: "progress" }, h("div", { class: "done" }));
    var label = h("span", { class: "time", text: "0:00 / 1:30" });
    var button = h("button", {
      id: "play",
      text: "▶ Play trailer",
      onclick: function () {
        if (player.paused) player.play();
        else player.pause();
      },
    });
    bar.addEventListener("click", function (e) {
      var box = bar.getBoundingClientRect();
      player.seek(((e.clientX - box.left) / box.width) * player.duration);
    });
    function paint() {
      bar.firstChild.style.width = (100 * player.currentTime) / player.duration + "%";
      var s = Math.floor(player.currentTime);
      label.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + " / 1:30";
      button.textContent = player.paused ? "▶ Play trailer" : "❚❚ Pause";
    }
    ["timeupdate", "play", "pause", "seeked"].forEach(function (name) {
      player.addEventListener(name, paint);
    });
    player.addEventListener("pause", refreshSoon);
    stopWatching = centroid.watch(player, item);
    return h(
      "div",
      { class: "player" },
      h("div", { class: "screen" }, tile(item)),
      button,
      bar,
      label,
    );
  }

  function itemPage(id) {
    getJson("/v1/content/" + encodeURIComponent(id))
      .then(function (item) {
        centroid.view(item);
        var liked = h("button", {
          id: "like",
          text: "♡ Like",
          onclick: function () {
            centroid.like(item);
            liked.textContent = "♥ Liked";
            liked.disabled = true;
            refreshSoon();
          },
        });
        var stars = h("span", { class: "stars", id: "rating" });
        [1, 2, 3, 4, 5].forEach(function (n) {
          stars.appendChild(
            h("button", {
              "data-stars": n,
              "aria-label": n + " stars",
              text: "☆",
              onclick: function () {
                centroid.rating(item, n);
                Array.prototype.forEach.call(stars.children, function (star, i) {
                  star.textContent = i < n ? "★" : "☆";
                });
                refreshSoon();
              },
            }),
          );
        });
        var cart = h("button", {
          id: "add-to-cart",
          text: "Add to cart",
          onclick: function () {
            centroid.addToCart(item);
            var lines = cartLines();
            lines.push({
              id: item.content_id,
              title: item.title,
              price: item.price,
              categories: item.categories,
            });
            saveCart(lines);
            cart.textContent = "In your cart";
            refreshSoon();
          },
        });
        show(
          h(
            "article",
            { class: "item" },
            h("div", { class: "media" }, playerView(item)),
            h(
              "div",
              { class: "details" },
              h("h1", { text: item.title || item.content_id }),
              h("p", { class: "muted", text: (item.categories || []).join(" · ") }),
              item.price != null
                ? h("p", { class: "price", text: Number(item.price).toFixed(2) })
                : null,
              h("div", { class: "actions" }, cart, liked),
              h("p", null, h("span", { class: "muted", text: "Your rating " }), stars),
            ),
          ),
        );
      })
      .catch(function () {
        show(h("h1", { text: "Item " + id }), h("p", { text: "This item could not be loaded." }));
      });
  }

  function cartLines() {
    try {
      return JSON.parse(localStorage.getItem("demo_cart")) || [];
    } catch (e) {
      return [];
    }
  }

  function saveCart(lines) {
    try {
      localStorage.setItem("demo_cart", JSON.stringify(lines));
    } catch (e) {}
    document.getElementById("cart-count").textContent = lines.length;
  }

  function cartPage() {
    var lines = cartLines();
    var list = h("ul", { class: "cart" });
    lines.forEach(function (line, index) {
      list.appendChild(
        h(
          "li",
          null,
          h("a", { href: "#/i/" + encodeURIComponent(line.id), text: line.title || line.id }),
          h("button", {
            text: "Remove",
            onclick: function () {
              centroid.removeFromCart(line);
              lines.splice(index, 1);
              saveCart(lines);
              cartPage();
            },
          }),
        ),
      );
    });
    var buy = h("button", {
      id: "buy",
      text: "Buy",
      onclick: function () {
        centroid.purchase(lines);
        saveCart([]);
        show(h("h1", { text: "Thank you" }), h("p", { text: "Your order was recorded." }));
        refreshSoon();
      },
    });
    show(
      h("h1", { text: "Your cart" }),
      lines.length ? list : h("p", { text: "It is empty." }),
      lines.length ? buy : null,
    );
  }

  function updatePanel(answer) {
    var assignment = answer.assignment;
    var cluster = assignment.cluster;
    document.getElementById("panel-cluster").textContent =
      cluster === "global" ? "none yet (cold start: the global list)" : "#" + cluster;
    document.getElementById("panel-version").textContent =
      answer.model_version == null ? "no model trained" : String(answer.model_version);
    document.getElementById("panel-events").textContent = String(assignment.n_events);
    var why = document.getElementById("panel-why");
    var show = function (profiles) {
      why.replaceChildren();
      var profile = (profiles.clusters || []).filter(function (p) {
        return p.cluster === cluster;
      })[0];
      if (!profile) {
        why.appendChild(h("li", { class: "muted", text: "Browse a little first." }));
        return;
      }
      why.appendChild(
        h("li", { class: "muted", text: profile.size + " visitors in this cluster" }),
      );
      profile.features.forEach(function (f) {
        var sign = f.z >= 0 ? "+" : "−";
        why.appendChild(
          h(
            "li",
            null,
            h("span", { text: f.label }),
            h("b", {
              class: f.z >= 0 ? "up" : "down",
              text: sign + Math.abs(f.z).toFixed(1) + "σ",
            }),
          ),
        );
      });
    };
    if (clusters && clusters.model_version === answer.model_version) show(clusters);
    else
      getJson("/demo/api/clusters")
        .then(function (profiles) {
          clusters = profiles;
          show(profiles);
        })
        .catch(function () {});
  }

  var refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshRail, 300);
  }

  function refreshRail() {
    var rail = document.getElementById("rail");
    Promise.resolve(
      centroid.renderRecommendations(rail, {
        limit: 8,
        link: function (item) {
          return "#/i/" + encodeURIComponent(item.content_id);
        },
        template: function (item) {
          var node = card(item.attributes || { content_id: item.content_id });
          if (item.from_global) node.classList.add("from-global");
          return node;
        },
        onRender: updatePanel,
      }),
    ).catch(function () {});
  }

  function route() {
    if (stopWatching) stopWatching();
    stopWatching = null;
    if (player) player.pause();
    var hash = decodeURIComponent(location.hash.slice(1) || "/");
    var parts = hash.split("/");
    if (parts[1] === "c" && parts[2]) listing(parts.slice(2).join("/"));
    else if (parts[1] === "i" && parts[2]) itemPage(parts.slice(2).join("/"));
    else if (parts[1] === "cart") cartPage();
    else home();
    refreshRail();
    window.scrollTo(0, 0);
  }

  window.addEventListener("hashchange", route);
  saveCart(cartLines());
  if (location.hash.length > 2) categoriesNav();
  route();
})();
