// Ask before an action that cannot be undone (closing, opening, removing a member):
// a form, or the button that submits it, carries the question in data-confirm.
// No inline script (strict CSP), so the question travels as an attribute.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    const form = ev.target;
    const button = ev.submitter;
    const question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) ev.preventDefault();
  });
})();
