/* SMART App Launch 2.0 (EHR launch: iss + launch; standalone: iss) through fhirclient:
   authorization code with PKCE S256, read-only patient scopes. No OAuth written here. */
(function () {
  "use strict";
  var script = document.getElementById("launch-script");
  var status = document.getElementById("status");
  var params = new URLSearchParams(window.location.search);
  if (!params.get("iss")) {
    status.textContent =
      "No FHIR server given: open the dashboard from the EHR (a SMART launch), " +
      "or add ?iss=<FHIR base URL> to this address for a standalone launch.";
    return;
  }
  FHIR.oauth2
    .authorize({
      clientId: script.dataset.clientId,
      scope: script.dataset.scope,
      redirectUri: "./",
      pkceMode: "required",
    })
    .catch(function (error) {
      status.textContent = "The launch failed: " + error.message;
    });
})();
