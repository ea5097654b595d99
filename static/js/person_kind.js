// Shows the name fields of the chosen kind of person only: first and last name for a
// natural person, company name for a legal one. Without this script every field stays
// visible, and the server ignores the fields of the other kind anyway.
(function () {
  "use strict";

  function holderOf(input) {
    return input.closest(".field") || input.parentElement;
  }

  function apply(select) {
    var scope = select.closest("fieldset") || select.form;
    if (!scope) { return; }
    var kind = select.value;
    scope.querySelectorAll("[data-person-kind]").forEach(function (input) {
      var wanted = input.getAttribute("data-person-kind");
      // Nothing chosen yet: show everything rather than guess.
      holderOf(input).hidden = kind !== "" && wanted !== kind;
    });
  }

  document.querySelectorAll("select[data-person-kind-choice]").forEach(function (select) {
    apply(select);
    select.addEventListener("change", function () { apply(select); });
  });
})();
