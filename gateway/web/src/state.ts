// The half-duplex turn cycle: ready → recording → waiting → playing → ready.
//
// Half duplex is how the client avoids echo without acoustic echo cancellation: the microphone is open only
// in `ready` and `recording`, and released while the translation is awaited and played. `idle` is outside
// the cycle (not connected). A transition is valid only from its named source state; anything else is a
// no-op that returns false, so a late event (a result after the user disconnected, a second "end sentence"
// click) cannot push the machine into a state it should not be in.

export type TurnState = "idle" | "ready" | "recording" | "waiting" | "playing";

export type TurnEvent =
  | "connected" // idle → ready
  | "speech_started" // ready → recording (VAD onset or the "speak now" button)
  | "speech_ended" // recording → waiting (VAD hangover ran out, or "end sentence")
  | "result_audio" // waiting → playing (translation with speech arrived)
  | "turn_done" // waiting | playing → ready (played to the end, result without audio, or an error)
  | "disconnected"; // any → idle

const TRANSITIONS: Record<TurnEvent, Partial<Record<TurnState, TurnState>>> = {
  connected: { idle: "ready" },
  speech_started: { ready: "recording" },
  speech_ended: { recording: "waiting" },
  result_audio: { waiting: "playing" },
  turn_done: { waiting: "ready", playing: "ready" },
  disconnected: { ready: "idle", recording: "idle", waiting: "idle", playing: "idle" },
};

/** Whether the microphone may be open in a state (the half-duplex rule). */
export function micOpenIn(state: TurnState): boolean {
  return state === "ready" || state === "recording";
}

export type StateListener = (state: TurnState, previous: TurnState, event: TurnEvent) => void;

export class TurnMachine {
  #state: TurnState = "idle";
  readonly #listeners: StateListener[] = [];

  get state(): TurnState {
    return this.#state;
  }

  onChange(listener: StateListener): void {
    this.#listeners.push(listener);
  }

  /** Applies `event`; returns false (and changes nothing) when it is not valid in the current state. */
  fire(event: TurnEvent): boolean {
    const next = TRANSITIONS[event][this.#state];
    if (next === undefined) return false;
    const previous = this.#state;
    this.#state = next;
    for (const listener of this.#listeners) listener(next, previous, event);
    return true;
  }
}
