// Start Swagger UI on the API schema. Kept in a file: the CSP allows no inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.cerSwaggerUi = window.SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    domNode: root,
    deepLinking: true,
    // The web session's cookie goes with "Try it out"; writes still need a bearer token.
    withCredentials: true,
    // No calls to the public validator service: everything stays on this site.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
