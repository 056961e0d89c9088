"""persona_adaptation: fillers, profanity, register and glossary placeholders (pure text rules)."""

from __future__ import annotations

import pytest

from node_svc.modules.persona import PLACEHOLDER_PREFIX, PersonaConfig, Prepared, prepare, restore

MESSY = "Um, I don't think the damn train is gonna come, you know. Uh, Lingua Labs can't help, like, at all."


def test_defaults_change_nothing() -> None:
    for text in (MESSY, "Euh, c'est quoi ce bordel ?", "", "  spaced   out  "):
        for lang in ("en", "fr", "de"):
            out = prepare(text, PersonaConfig(), lang)
            assert out == Prepared(text=text, placeholders={}, changes=[])
            assert restore(out.text, out) == text


def test_fillers_are_removed_only_where_they_are_fillers() -> None:
    cfg = PersonaConfig(remove_fillers=True)
    out = prepare("Um, so, like, we left. You know, it's late, you know?", cfg)
    assert out.text == "So, we left. It's late?"
    assert out.changes == ["removed 4 filler(s): um, you know, like"]
    # The same words as content stay.
    for text in ("I like it.", "Do you know the way?", "What kind of room is it?", "I mean it."):
        assert prepare(text, cfg).text == text
    assert prepare("I um think uh that's fine.", cfg).text == "I think that's fine."
    assert prepare("Fine. Um. Bye.", cfg).text == "Fine. Bye."
    assert prepare("Um.", cfg).text == ""
    french = prepare("Euh, c'est bien, quoi. C'est quoi ? Ben, tu vois, on y va !", cfg, "fr")
    assert french.text == "C'est bien. C'est quoi ? On y va !"  # French spacing before ? and ! kept


def test_profanity_is_masked_as_whole_words() -> None:
    cfg = PersonaConfig(mask_profanity=True)
    out = prepare("What the hell's this SHIT? Damn.", cfg)
    assert out.text == "What the h***'s this S***? D***."
    assert out.changes == ["masked 3 word(s)"]
    assert prepare("Hello there, hellish shitake day.", cfg).text == "Hello there, hellish shitake day."
    assert prepare("Putain, merde !", cfg, "fr").text == "P*****, m**** !"
    unknown = prepare("Scheiße.", cfg, "de")
    assert unknown.text == "Scheiße." and "no word list" in unknown.changes[0]


def test_register_formal_and_informal() -> None:
    formal = prepare("Don't! I can't, it's been fun and it's nice. Hi, I'd wanna go, thanks. John's car.",
                     PersonaConfig(register="formal"))
    assert formal.text == ("Do not! I cannot, it has been fun and it is nice. Hello, I would want to go, "
                           "thank you. John's car.")
    assert prepare("DON'T gonna", PersonaConfig(register="formal")).text == "DO NOT going to"
    informal = prepare("I do not know, thank you. Yes, it is. It is not late, I am sure we will not go.",
                       PersonaConfig(register="Informal"))
    # "it is." cannot contract at the end of a clause; "we will not" becomes "won't", not "we'll not".
    assert informal.text == "I don't know, thanks. Yes, it is. It isn't late, I'm sure we won't go."
    assert informal.changes == ["informal register: 5 change(s)"]
    french = prepare("Je ne sais pas.", PersonaConfig(register="formal"), "fr")
    assert french.text == "Je ne sais pas." and "no formal rules" in french.changes[0]
    with pytest.raises(ValueError, match="register"):
        prepare("Hi.", PersonaConfig(register="pirate"))


def test_everything_together() -> None:
    cfg = PersonaConfig(register="formal", remove_fillers=True, mask_profanity=True, glossary=["Lingua Labs"])
    out = prepare(MESSY, cfg)
    token = next(iter(out.placeholders))
    assert out.text == f"I do not think the d*** train is going to come. {token} cannot help at all."
    assert restore(out.text, out) == "I do not think the d*** train is going to come. Lingua Labs cannot help at all."


def test_glossary_placeholders_survive_a_round_trip() -> None:
    cfg = PersonaConfig(glossary=["Lingua", "Lingua Labs", "  ", "absent term"], remove_fillers=True)
    out = prepare("Um, please call Lingua Labs about Lingua. lingua labs is, like, great.", cfg)
    # Longest term first, so "Lingua Labs" is not split into "Lingua" + " Labs"; any case matches.
    assert out.placeholders == {f"{PLACEHOLDER_PREFIX}A": "Lingua Labs", f"{PLACEHOLDER_PREFIX}B": "Lingua"}
    assert out.text == "Please call ZQXA about ZQXB. ZQXA is great."
    assert "Lingua" not in out.text and "like" not in out.text  # fillers never touch a protected term
    assert restore(out.text, out) == "Please call Lingua Labs about Lingua. Lingua Labs is great."
    # What MT may do to a token: lowercase it (the bundled model lowercases its input), space its letters.
    assert restore("Appelez zqxa au sujet de Z Q X B.", out) == "Appelez Lingua Labs au sujet de Lingua."
    assert not any("dropped" in change for change in out.changes)


def test_restore_reports_dropped_and_garbled_placeholders() -> None:
    out = prepare("Call Lingua Labs about Lingua.", PersonaConfig(glossary=["Lingua Labs", "Lingua"]))
    assert restore("Appelez ZQXA au sujet de ZQXQ.", out) == "Appelez Lingua Labs au sujet de."
    assert "glossary: MT dropped 'Lingua'" in out.changes
    assert "glossary: removed 1 garbled placeholder(s)" in out.changes
    # Nothing to restore: the translation comes back untouched.
    plain = prepare("Hello.", PersonaConfig(glossary=["Lingua"]))
    assert plain.placeholders == {} and restore("Bonjour.", plain) == "Bonjour."


def test_many_glossary_terms_get_distinct_tokens() -> None:
    terms = [f"Term{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(30)]
    out = prepare(" ".join(terms), PersonaConfig(glossary=terms))
    assert list(out.placeholders) == [f"{PLACEHOLDER_PREFIX}{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"] + [
        f"{PLACEHOLDER_PREFIX}A{c}" for c in "ABCD"]
    assert list(out.placeholders.values()) == terms  # deterministic: configured order
    assert restore(out.text, out) == " ".join(terms)


@pytest.mark.models
def test_placeholders_reach_the_bundled_mt_model_intact() -> None:
    """Against the real bundled M2M100 (a phrasebook model: it translates only its training sentences)."""
    from node_svc.engines.mt import M2M100Translator

    mt = M2M100Translator.bundled()
    out = prepare("I am here on vacation with Lingua Labs.", PersonaConfig(glossary=["Lingua Labs"]))
    # The model's own source normalisation (lowercasing) and tokenizer keep every letter of the token.
    source = mt.prepare_source(out.text, "en")
    assert "zqxa" in source
    pieces = mt._sp.encode(source, out_type=int)
    assert mt._sp.unk_id() not in pieces
    translated = mt.translate([out.text], "en", "fr")[0]
    restored = restore(translated, out)
    # The phrasebook model does not copy unseen tokens: restore must then leave no token debris behind
    # and say that the term was lost; a model that copies the token gets the term back.
    assert PLACEHOLDER_PREFIX.lower() not in restored.lower()
    assert ("Lingua Labs" in restored) != any("MT dropped 'Lingua Labs'" in c for c in out.changes)
