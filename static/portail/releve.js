/*
 * Relevés PDF: while a statement is being prepared, ask its JSON status every few
 * seconds and, when it is ready, replace « en préparation » with the download link,
 * without reloading the page. Progressive enhancement: without this script the
 * « Actualiser » link reloads the page. No inline script, no innerHTML (strict CSP).
 */
(function () {
  "use strict";

  // A statement takes about a second to render: ask early and often at first (the link
  // then shows up as soon as it is ready), less and less often after.
  var DELAI_INITIAL = 400;
  var FACTEUR = 1.3;
  var DELAI_MAX = 10000;
  var DUREE_MAX = 5 * 60 * 1000;

  function annoncer(texte) {
    var zone = document.getElementById("releves-annonce");
    if (zone) {
      zone.textContent = "";
      window.setTimeout(function () { zone.textContent = texte; }, 50);
    }
  }

  function remplacerEtat(element, etat) {
    var alerte = element.querySelector("[data-releve-alerte]");
    var paragraphe = element.querySelector("[data-releve-etat]");
    if (!alerte || !paragraphe) {
      return;
    }
    alerte.classList.remove("fr-alert--info", "fr-alert--success", "fr-alert--error");
    while (paragraphe.firstChild) {
      paragraphe.removeChild(paragraphe.firstChild);
    }
    if (etat.statut === "pret") {
      alerte.classList.add("fr-alert--success");
      var lien = document.createElement("a");
      lien.className = "fr-link fr-link--download";
      lien.href = etat.url;
      lien.setAttribute("download", "");
      lien.appendChild(document.createTextNode("Télécharger le relevé "));
      var detail = document.createElement("span");
      detail.className = "fr-link__detail";
      detail.textContent = etat.taille ? "PDF – " + etat.taille : "PDF";
      lien.appendChild(detail);
      paragraphe.appendChild(lien);
      var aide = document.createElement("span");
      aide.className = "fr-hint-text";
      aide.textContent = "Disponible jusqu'au " + etat.expire_le + ".";
      paragraphe.appendChild(aide);
    } else {
      alerte.classList.add("fr-alert--error");
      paragraphe.textContent = etat.message;
    }
    element.setAttribute("data-statut", etat.statut);
    annoncer(etat.perimetre + " : " + etat.message);
  }

  function suivre(element) {
    var url = element.getAttribute("data-url-statut");
    var debut = Date.now();
    var delai = DELAI_INITIAL;

    function interroger() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (reponse) {
          if (!reponse.ok) {
            throw new Error("HTTP " + reponse.status);
          }
          return reponse.json();
        })
        .then(function (etat) {
          if (etat.statut === "demande") {
            planifier();
          } else {
            remplacerEtat(element, etat);
          }
        })
        .catch(planifier);
    }

    function planifier() {
      if (Date.now() - debut > DUREE_MAX) {
        return; // the « Actualiser » link is still there
      }
      window.setTimeout(interroger, delai);
      delai = Math.min(delai * FACTEUR, DELAI_MAX);
    }

    planifier();
  }

  function demarrer() {
    if (!window.fetch) {
      return;
    }
    var elements = document.querySelectorAll("[data-releve][data-statut='demande']");
    for (var i = 0; i < elements.length; i += 1) {
      suivre(elements[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", demarrer);
  } else {
    demarrer();
  }
})();
