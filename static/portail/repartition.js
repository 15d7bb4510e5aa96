/*
 * « Alimenter le pécule »: refresh the estimate of the répartition under the amount as
 * the relative types, from the same fragment the page shows after « Estimer la
 * répartition » (progressive enhancement: without this script that button does it).
 * The fragment is parsed with DOMParser and its nodes moved in: no innerHTML, no inline
 * script (strict CSP). The region is aria-live="polite"; requests wait for a pause.
 */
(function () {
  "use strict";

  var PAUSE = 400;

  function demarrer() {
    var zone = document.getElementById("repartition");
    if (!zone || !window.fetch || !window.DOMParser) {
      return;
    }
    var champ = document.getElementById(zone.getAttribute("data-champ"));
    if (!champ) {
      return;
    }
    var minuterie = null;
    // The estimate the page came with is for the amount it was served with.
    var derniere = champ.defaultValue.trim();

    function actualiser() {
      var valeur = champ.value.trim();
      if (valeur === derniere) {
        return;
      }
      derniere = valeur;
      var url = zone.getAttribute("data-url") + "?montant=" + encodeURIComponent(valeur);
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (reponse) {
          if (!reponse.ok) {
            throw new Error("HTTP " + reponse.status);
          }
          return reponse.text();
        })
        .then(function (texte) {
          if (valeur !== derniere) {
            return; // a newer amount was typed meanwhile
          }
          var document_ = new DOMParser().parseFromString(texte, "text/html");
          var noeuds = Array.prototype.slice.call(document_.body.childNodes);
          while (zone.firstChild) {
            zone.removeChild(zone.firstChild);
          }
          noeuds.forEach(function (noeud) {
            zone.appendChild(document.importNode(noeud, true));
          });
        })
        .catch(function () {
          derniere = null; // try again at the next change
        });
    }

    champ.addEventListener("input", function () {
      window.clearTimeout(minuterie);
      minuterie = window.setTimeout(actualiser, PAUSE);
    });
    // Typed before this script ran (it is deferred): estimate it now.
    if (champ.value.trim() !== derniere) {
      actualiser();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", demarrer);
  } else {
    demarrer();
  }
})();
