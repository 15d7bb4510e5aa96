// The stand-in's own HTML pages, in French, with no external asset.

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;background:#f6f6f6;color:#161616;line-height:1.5}
  header{background:#000091;color:#fff;padding:.75rem 1rem}
  header p{margin:0;font-weight:700}
  header small{font-weight:400}
  main{max-width:34rem;margin:1.5rem auto;padding:0 1rem}
  .carte{background:#fff;border:1px solid #ddd;padding:1.25rem 1.5rem;margin-bottom:1rem}
  h1{font-size:1.4rem;margin:0 0 .75rem}
  label{display:block;font-weight:600;margin-top:.75rem}
  input{display:block;width:100%;padding:.5rem;font-size:1rem;border:0;border-bottom:2px solid #3a3a3a;background:#eee}
  .actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.25rem}
  button{font-size:1rem;padding:.5rem 1rem;cursor:pointer;border:1px solid #000091}
  .principal{background:#000091;color:#fff}
  .secondaire{background:#fff;color:#000091}
  .erreur{border-left:4px solid #ce0500;background:#ffe9e9;padding:.5rem .75rem}
  .avertissement{font-size:.875rem;color:#3a3a3a}
  table{border-collapse:collapse;width:100%;font-size:.875rem}
  th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}
  code{font-size:.875rem}
`;

export function layout({ title, body }) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} — FranceConnect (simulateur local)</title>
<style>${STYLE}</style>
</head>
<body>
<header><p>FranceConnect <small>— simulateur local de développement et de test, pas le vrai service</small></p></header>
<main>
${body}
</main>
</body>
</html>`;
}

const CLAIM_LABELS = {
  given_name: 'prénoms',
  family_name: 'nom de naissance',
  birthdate: 'date de naissance',
  birthplace: 'lieu de naissance',
  birthcountry: 'pays de naissance',
  gender: 'sexe',
  preferred_username: "nom d'usage",
  email: 'adresse électronique',
};

export function loginPage({
  actionLogin, actionAbort, clientName, requestedClaims, identities, error, login,
}) {
  const claims = requestedClaims
    .map((claim) => CLAIM_LABELS[claim])
    .filter(Boolean);
  const rows = identities
    .map((identity) => `<tr><td><code>${escapeHtml(identity.login)}</code></td><td><code>${escapeHtml(identity.password)}</code></td><td>${escapeHtml(identity.label || '')}</td></tr>`)
    .join('\n');
  return layout({
    title: "Connexion au fournisseur d'identité de test",
    body: `<div class="carte">
<h1>Connexion au fournisseur d'identité de test</h1>
<p>Le service <strong>${escapeHtml(clientName)}</strong> demande à vous identifier${claims.length ? ` et à connaître : ${escapeHtml(claims.join(', '))}` : ''}.</p>
${error ? `<p class="erreur" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(actionLogin)}" id="connexion">
<label for="login">Identifiant</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(login || '')}"${login ? '' : ' autofocus'}>
<label for="password">Mot de passe</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${login ? ' autofocus' : ''}>
</form>
<form method="post" action="${escapeHtml(actionAbort)}" id="annulation"></form>
<div class="actions">
<button type="submit" form="connexion" class="principal">Se connecter</button>
<button type="submit" form="annulation" class="secondaire">Annuler</button>
</div>
</div>
<div class="carte">
<p class="avertissement">Identités de test (données fictives) :</p>
<table>
<thead><tr><th>Identifiant</th><th>Mot de passe</th><th>Identité</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>`,
  });
}

export function errorPage({ title = 'Une erreur est survenue', message, details = {} }) {
  const list = Object.entries(details)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `<li><code>${escapeHtml(key)}</code> : ${escapeHtml(value)}</li>`)
    .join('\n');
  return layout({
    title,
    body: `<div class="carte">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${list ? `<ul>${list}</ul>` : ''}
</div>`,
  });
}

export function logoutPage({ form }) {
  // Only shown if the automatic confirmation (see lib/provider.mjs) could not run.
  return layout({
    title: 'Déconnexion',
    body: `<div class="carte">
<h1>Déconnexion</h1>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="principal" autofocus>Se déconnecter</button>
</div>
</div>`,
  });
}

export function postLogoutPage() {
  return layout({
    title: 'Déconnexion réussie',
    body: `<div class="carte">
<h1>Déconnexion réussie</h1>
<p>Vous êtes déconnecté du fournisseur d'identité de test.</p>
</div>`,
  });
}
