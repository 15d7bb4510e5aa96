"""The sandbox bank's HTTP server: the provider API, the test switches, the bank pages.

Run `python -m sandbox` (or `python sandbox/serveur.py`) from the repository root. It binds
127.0.0.1, prints `Sandbox bank listening on http://127.0.0.1:PORT` once ready, and stops
cleanly on SIGTERM / SIGINT. See docs/sandbox-banque.md.
"""

import datetime
import hmac
import logging
import signal
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `sandbox` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from sandbox import banques, camt053, remises
from sandbox.envoi import Expediteur, Horloge
from sandbox.etat import Base
from sandbox.moteur import (
    CREATED,
    ISSUE_PAR_DEFAUT,
    ISSUES,
    STATUTS,
    Conflit,
    Moteur,
    PaiementIntrouvable,
    iso,
)
from sandbox.reglages import ConfigurationInvalide, Interrupteurs, Reglages
from sandbox.validation import RequeteInvalide, valider_paiement

logger = logging.getLogger("sandbox")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class Sandbox:
    """Everything one sandbox bank process holds: state, switches, background threads."""

    def __init__(self, reglages: Reglages):
        self.reglages = reglages
        self.base = Base(reglages.chemin_base)
        self.interrupteurs = Interrupteurs(reglages)
        self.moteur = Moteur(self.base, self.interrupteurs)
        self.remises = remises.Remises(self.base, self.interrupteurs)
        self.expediteur = Expediteur(self.moteur, reglages.secret)
        self.horloge = Horloge(self.moteur, reglages.pas_horloge)

    def demarrer(self) -> None:
        self.horloge.demarrer()
        self.expediteur.demarrer()

    def arreter(self) -> None:
        self.horloge.arreter()
        self.expediteur.arreter(delai=self.interrupteurs["notification_timeout"] + 2)
        self.base.fermer()


def euros(valeur) -> str:
    """12,50 € / 1 234,50 € (French format)."""
    texte = f"{Decimal(valeur):,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{texte}\u00a0€"


def creer_app(sandbox: Sandbox) -> Flask:
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.jinja_env.filters["euros"] = euros
    app.jinja_env.filters["iban_masque"] = banques.masquer_iban
    moteur = sandbox.moteur
    interrupteurs = sandbox.interrupteurs

    def base_publique() -> str:
        return sandbox.reglages.url_publique or request.host_url.rstrip("/")

    def representation(paiement: dict) -> dict:
        return {
            "id": paiement["id"],
            "statut": paiement["statut"],
            "motif": paiement["motif"],
            "motif_code": paiement["motif_code"],
            "montant": paiement["montant"],
            "devise": "EUR",
            "creancier_nom": paiement["creancier_nom"],
            "creancier_iban": paiement["creancier_iban"],
            "reference_bout_en_bout": paiement["reference_bout_en_bout"],
            "libelle": paiement["libelle"],
            "payeur": {"nom": paiement["payeur_nom"], "email": paiement["payeur_email"]},
            "url_retour": paiement["url_retour"],
            "url_redirection": f"{base_publique()}/paiement/{paiement['id']}",
            "banque": paiement["banque"],
            "debiteur_iban": paiement["debiteur_iban"],
            "cree_le": iso(paiement["cree_le"]),
            "expire_le": iso(paiement["expire_le"]),
            "autorise_le": iso(paiement["autorise_le"]),
            "execute_le": iso(paiement["execute_le"]),
            "maj_le": iso(paiement["maj_le"]),
        }

    def erreur(statut: int, code: str, message: str = "", **extra):
        return jsonify({"erreur": code, "message": message, **extra}), statut

    def est_api() -> bool:
        return request.path.startswith(("/api/", "/__admin__/"))

    # --- Cross-cutting -------------------------------------------------------------------

    @app.before_request
    def authentifier():
        if not est_api():
            return None
        entete = request.headers.get("Authorization", "")
        attendu = f"Bearer {sandbox.reglages.secret}"
        if not hmac.compare_digest(entete.encode(), attendu.encode()):
            reponse, statut = erreur(401, "non_authentifie", "Authorization: Bearer <secret>")
            reponse.headers["WWW-Authenticate"] = 'Bearer realm="sandbox"'
            return reponse, statut
        if request.path.startswith("/api/") and interrupteurs.consommer("api_failures"):
            reponse, statut = erreur(
                interrupteurs["api_failure_status"],
                "panne_simulee",
                "Panne simulée (api_failures).",
            )
            reponse.headers["Retry-After"] = "1"
            return reponse, statut
        return None

    @app.after_request
    def entetes(reponse):
        reponse.headers["X-Content-Type-Options"] = "nosniff"
        reponse.headers["Referrer-Policy"] = "no-referrer"
        reponse.headers.setdefault("Cache-Control", "no-store")
        if reponse.mimetype == "text/html":
            reponse.headers["Content-Security-Policy"] = CSP
        return reponse

    @app.errorhandler(HTTPException)
    def erreur_http(exc: HTTPException):
        if est_api():
            return erreur(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description)
        return render_template("erreur.html", code=exc.code, titre=exc.name), exc.code

    @app.errorhandler(Exception)
    def erreur_interne(exc: Exception):
        logger.exception("Unexpected error on %s %s", request.method, request.path)
        if est_api():
            return erreur(500, "erreur_interne", str(exc))
        return render_template("erreur.html", code=500, titre="Erreur interne"), 500

    @app.get("/health")
    def sante():
        return jsonify({"statut": "ok"})

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    # --- Provider API --------------------------------------------------------------------

    @app.post("/api/paiements")
    def creer_paiement():
        donnees = request.get_json(silent=True)
        if donnees is None:
            return erreur(
                400, "json_invalide", "Corps JSON attendu (Content-Type: application/json)."
            )
        try:
            propre = valider_paiement(donnees)
            paiement, cree = moteur.creer(propre)
        except RequeteInvalide as exc:
            return erreur(400, "requete_invalide", "Champs invalides.", champs=exc.champs)
        except Conflit as exc:
            return erreur(409, exc.code, exc.message)
        corps = representation(paiement)
        reponse = jsonify(corps)
        reponse.status_code = 201 if cree else 200
        reponse.headers["Location"] = f"/api/paiements/{paiement['id']}"
        return reponse

    @app.get("/api/paiements/<identifiant>")
    def lire_paiement(identifiant: str):
        latence = interrupteurs["latence_get_payment_ms"]
        if latence:  # a real provider's round trip (SANDBOX_LATENCE_GET_PAYMENT_MS)
            time.sleep(latence / 1000)
        try:
            paiement = moteur.paiement(identifiant)
        except PaiementIntrouvable:
            return erreur(404, "paiement_inconnu", f"Aucun paiement {identifiant}.")
        corps = representation(paiement)
        corps["historique"] = moteur.historique(identifiant)
        return jsonify(corps)

    @app.get("/api/releves/<iban>")
    def releve(iban: str):
        try:
            compte = IBAN(iban)
        except SchwiftyException as exc:
            return erreur(400, "iban_invalide", str(exc))
        texte_jour = request.args.get("date", "")
        try:
            jour = (
                datetime.date.fromisoformat(texte_jour)
                if texte_jour
                else datetime.datetime.now(camt053.ZoneInfo(sandbox.reglages.fuseau)).date()
            )
        except ValueError:
            return erreur(400, "date_invalide", "date=AAAA-MM-JJ attendu.")
        xml = camt053.releve(
            moteur,
            sandbox.remises,
            compte,
            jour,
            sandbox.reglages.fuseau,
            Decimal(interrupteurs["opening_balance"]),
        )
        return app.response_class(
            xml,
            mimetype="application/xml",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="camt053_{compte.compact}_{jour.isoformat()}.xml"'
                )
            },
        )

    # --- The régie's outgoing transfers (pain.001 in, pain.002 out) ------------------------

    def recevoir_remise(contenu: bytes, nom_fichier: str):
        """(remise, created) or an error answer (400 invalid file, 409 message id reused)."""
        try:
            return sandbox.remises.recevoir(contenu, nom_fichier), None
        except remises.FichierInvalide as exc:
            return None, (400, "fichier_invalide", exc.erreurs)
        except remises.RemiseEnConflit as exc:
            return None, (409, "remise_deja_recue", [str(exc)])

    def reponse_pain002(remise: dict):
        return app.response_class(
            remises.pain002(remise, sandbox.reglages.fuseau),
            mimetype="application/xml",
            headers={
                "Content-Disposition": f'attachment; filename="pain002_{remise["identifiant"]}.xml"'
            },
        )

    @app.post("/api/remises")
    def deposer_remise():
        resultat, probleme = recevoir_remise(request.get_data(cache=False), "")
        if probleme is not None:
            statut, code, erreurs = probleme
            return erreur(statut, code, "; ".join(erreurs), erreurs=erreurs)
        remise, cree = resultat
        reponse = jsonify(remise)
        reponse.status_code = 201 if cree else 200
        reponse.headers["Location"] = f"/api/remises/{remise['identifiant']}"
        return reponse

    @app.get("/api/remises/<identifiant>")
    def lire_remise(identifiant: str):
        try:
            return jsonify(sandbox.remises.remise(identifiant))
        except remises.RemiseIntrouvable:
            return erreur(404, "remise_inconnue", f"Aucune remise {identifiant}.")

    @app.get("/api/remises/<identifiant>/pain002")
    def rapport_remise(identifiant: str):
        try:
            return reponse_pain002(sandbox.remises.remise(identifiant))
        except remises.RemiseIntrouvable:
            return erreur(404, "remise_inconnue", f"Aucune remise {identifiant}.")

    @app.get("/remises/<identifiant>/pain002")
    def page_rapport_remise(identifiant: str):
        try:
            return reponse_pain002(sandbox.remises.remise(identifiant))
        except remises.RemiseIntrouvable:
            abort(404)

    @app.route("/remises", methods=["GET", "POST"])
    def page_remises():
        """The bank's page where a person uploads the régie's pain.001 file."""
        message, erreurs, statut = "", [], 200
        if request.method == "POST":
            fichier = request.files.get("fichier")
            if fichier is None or not fichier.filename:
                erreurs, statut = ["Choisissez le fichier pain.001 à déposer."], 400
            else:
                resultat, probleme = recevoir_remise(fichier.read(), fichier.filename)
                if probleme is not None:
                    statut, _code, erreurs = probleme
                else:
                    remise, cree = resultat
                    message = (
                        f"Remise {remise['identifiant']} reçue et traitée."
                        if cree
                        else f"Remise {remise['identifiant']} déjà reçue : rien n'a changé."
                    )
        return render_template(
            "remises.html",
            remises=sandbox.remises.toutes(),
            message=message,
            erreurs=erreurs,
            reglages=interrupteurs.lire(),
        ), statut

    # --- Test switches -------------------------------------------------------------------

    @app.get("/__admin__/config")
    def lire_config():
        return jsonify(interrupteurs.lire())

    @app.post("/__admin__/config")
    def modifier_config():
        donnees = request.get_json(silent=True)
        try:
            valeurs = interrupteurs.modifier(donnees)
        except ConfigurationInvalide as exc:
            return erreur(400, "configuration_invalide", "Réglages invalides.", champs=exc.champs)
        moteur.reveil_envoi.set()  # e.g. reorder turned off: release the held notifications
        return jsonify(valeurs)

    @app.post("/__admin__/reset")
    def reinitialiser():
        sandbox.base.vider()
        return jsonify(interrupteurs.reinitialiser())

    @app.get("/__admin__/notifications")
    def journal():
        return jsonify(moteur.journal_notifications(request.args.get("paiement_id")))

    @app.get("/__admin__/paiements")
    def tous_les_paiements():
        with sandbox.base.lecture() as cx:
            ids = [ligne["id"] for ligne in cx.execute("SELECT id FROM paiements ORDER BY cree_le")]
        return jsonify([representation(moteur.paiement(i)) for i in ids])

    @app.post("/__admin__/paiements/<identifiant>/statut")
    def forcer_statut(identifiant: str):
        donnees = request.get_json(silent=True) or {}
        statut = donnees.get("statut")
        if statut not in STATUTS:
            return erreur(400, "statut_inconnu", f"statut parmi {', '.join(STATUTS)}")
        survenu_le = None
        if donnees.get("survenu_le"):
            try:
                moment = datetime.datetime.fromisoformat(donnees["survenu_le"])
            except (TypeError, ValueError):
                return erreur(400, "date_invalide", "survenu_le : date ISO 8601 attendue.")
            if moment.tzinfo is None:
                return erreur(400, "date_invalide", "survenu_le : fuseau horaire attendu.")
            survenu_le = moment.timestamp()
        try:
            paiement = moteur.forcer(
                identifiant, statut, str(donnees.get("motif", ""))[:300], survenu_le
            )
        except PaiementIntrouvable:
            return erreur(404, "paiement_inconnu", f"Aucun paiement {identifiant}.")
        return jsonify(representation(paiement))

    # --- Bank pages (what the relative sees) ---------------------------------------------

    def paiement_ou_404(identifiant: str) -> dict:
        try:
            return moteur.paiement(identifiant)
        except PaiementIntrouvable:
            abort(404)

    def banque_ou_404(code: str) -> banques.Banque:
        banque = banques.PAR_CODE.get(code)
        if banque is None:
            abort(404)
        return banque

    def page_etat(paiement: dict, statut_http: int = 200):
        return render_template("etat.html", paiement=paiement), statut_http

    @app.get("/")
    def accueil():
        return render_template("accueil.html", banques=banques.BANQUES)

    @app.get("/paiement/<identifiant>")
    def selection_banque(identifiant: str):
        paiement = paiement_ou_404(identifiant)
        if paiement["statut"] != CREATED:
            return page_etat(paiement)
        return render_template("selection.html", paiement=paiement, banques=banques.BANQUES)

    @app.post("/paiement/<identifiant>/annulation")
    def annuler_depuis_selection(identifiant: str):
        paiement_ou_404(identifiant)
        try:
            paiement = moteur.annuler(identifiant)
        except Conflit:
            return page_etat(moteur.paiement(identifiant), 409)
        return redirect(paiement["url_retour"], code=303)

    @app.route("/paiement/<identifiant>/banque/<code>", methods=["GET", "POST"])
    def connexion(identifiant: str, code: str):
        banque = banque_ou_404(code)
        paiement = paiement_ou_404(identifiant)
        if paiement["statut"] != CREATED:
            return page_etat(paiement, 200 if request.method == "GET" else 409)
        erreur_saisie = ""
        if request.method == "POST":
            identifiant_saisi = request.form.get("identifiant", "").strip()
            code_saisi = request.form.get("code", "").strip()
            if identifiant_saisi and code_saisi:
                try:
                    moteur.connecter(identifiant, code)
                except Conflit:
                    return page_etat(moteur.paiement(identifiant), 409)
                return redirect(url_for("validation", identifiant=identifiant, code=code), code=303)
            erreur_saisie = "Saisissez votre identifiant et votre code confidentiel."
        return render_template(
            "connexion.html", paiement=paiement, banque=banque, erreur=erreur_saisie
        ), (400 if erreur_saisie else 200)

    @app.route("/paiement/<identifiant>/banque/<code>/validation", methods=["GET", "POST"])
    def validation(identifiant: str, code: str):
        banque = banque_ou_404(code)
        paiement = paiement_ou_404(identifiant)
        if paiement["statut"] != CREATED:
            return page_etat(paiement, 200 if request.method == "GET" else 409)
        if not paiement["connecte"] or paiement["banque"] != code:
            return redirect(url_for("connexion", identifiant=identifiant, code=code), code=303)
        if request.method == "GET":
            return render_template(
                "validation.html",
                paiement=paiement,
                banque=banque,
                issues=ISSUES,
                issue_par_defaut=ISSUE_PAR_DEFAUT,
            )
        action = request.form.get("action", "valider")
        try:
            if action == "annuler":
                paiement = moteur.annuler(identifiant)
            elif action == "valider":
                issue = request.form.get("issue", ISSUE_PAR_DEFAUT)
                if issue not in ISSUES:
                    abort(400)
                paiement = moteur.valider(identifiant, code, issue)
                if issue == "abandon":
                    return render_template("abandon.html", paiement=paiement, banque=banque)
            else:
                abort(400)
        except Conflit:
            return page_etat(moteur.paiement(identifiant), 409)
        # Back to the portal, with no outcome in the URL: the portal must ask.
        return redirect(paiement["url_retour"], code=303)

    return app


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    reglages = Reglages.depuis_environnement()
    sandbox = Sandbox(reglages)
    app = creer_app(sandbox)
    serveur = make_server(reglages.hote, reglages.port, app, threaded=True)
    sandbox.demarrer()

    def arreter(*_):
        threading.Thread(target=serveur.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, arreter)
    signal.signal(signal.SIGINT, arreter)
    print(f"Sandbox bank listening on http://{reglages.hote}:{serveur.server_port}", flush=True)
    try:
        serveur.serve_forever()
    finally:
        serveur.server_close()
        sandbox.arreter()
        logger.info("Sandbox bank stopped")


if __name__ == "__main__":
    main()
