// Consultation builder: each question shows the settings its type uses.
// Progressive enhancement: without this script every field shows, and the server
// accepts and checks the same form either way; a hidden field is still sent and
// the server ignores what its type does not use (QuestionForm.clean / to_dict).
(function () {
  "use strict";
  // Which question types read each setting (as QuestionForm.clean does).
  const USED_BY = {
    options: ["single", "multiple"],
    scale_min: ["scale"],
    scale_max: ["scale"],
    max_length: ["text"],
  };

  function fieldOf(question, name) {
    return question.querySelector("[data-field='" + name + "']");
  }

  function update(question) {
    const kind = question.querySelector("select[name$='-kind']");
    const label = question.querySelector("input[name$='-label']");
    for (const [name, kinds] of Object.entries(USED_BY)) {
      const field = fieldOf(question, name);
      // A field the server found wrong stays in sight, whatever the type says.
      if (field && !field.querySelector(".errorlist")) field.hidden = !kinds.includes(kind.value);
    }
    // « Supprimer » means nothing on a blank question: it is ignored anyway.
    const remove = fieldOf(question, "DELETE");
    if (remove && label) {
      const checked = remove.querySelector("input").checked;
      remove.hidden = !label.value.trim() && !checked;
    }
  }

  for (const question of document.querySelectorAll(".builder fieldset.question")) {
    if (!question.querySelector("select[name$='-kind']")) continue;
    question.addEventListener("change", () => update(question));
    question.addEventListener("input", () => update(question));
    update(question);
  }
})();
