from __future__ import annotations

from node_svc.modules.persona import PersonaConfig, prepare, restore


def test_defaults_change_nothing() -> None:
    text = "Um, I don't know, damn it."
    assert prepare(text, PersonaConfig()).text == text


def test_fillers_profanity_and_register() -> None:
    cfg = PersonaConfig(register="formal", remove_fillers=True, mask_profanity=True)
    out = prepare("Um, I don't think the damn train is gonna come, you know.", cfg)
    assert out.text == "I do not think the d*** train is going to come."
    assert any("filler" in c for c in out.changes) and any("masked" in c for c in out.changes)
    informal = prepare("I do not know, thank you.", PersonaConfig(register="informal"))
    assert informal.text == "I don't know, thanks."
    assert prepare("Hello there, hellish day.", PersonaConfig(mask_profanity=True)).text == "Hello there, hellish day."


def test_glossary_terms_survive_translation_unchanged() -> None:
    out = prepare("Please call Lingua Labs about the order.", PersonaConfig(glossary=["Lingua Labs"]))
    assert "Lingua Labs" not in out.text and out.placeholders
    token = next(iter(out.placeholders))
    translated = f"Veuillez appeler {token} au sujet de la commande."  # what MT does with the placeholder
    assert restore(translated, out) == "Veuillez appeler Lingua Labs au sujet de la commande."
    lost = prepare("Call Lingua Labs.", PersonaConfig(glossary=["Lingua Labs"]))
    assert restore("Appelez.", lost) == "Appelez." and any("dropped" in c for c in lost.changes)
