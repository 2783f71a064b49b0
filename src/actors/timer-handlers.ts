import type { AnyMachineSnapshot } from 'xstate';
import type { TimerEntry } from './durable-timers.ts';
import type { SendItem, Tx } from './tx.ts';

/** Reacts to a durable timer inside the unit of work that cancels it. */
export type TimerHandler = (tx: Tx, entry: TimerEntry) => void;

/** The default timer reaction: deliver its event to its actor if the actor still accepts it. */
export const deliverTimerEvent: TimerHandler = (tx, entry) => {
  const event = { ...entry.event, at: tx.now } as SendItem['event'];
  // Any kind's timer comes here: its event is checked against the actor's own machine.
  const snapshot: AnyMachineSnapshot | undefined = tx.find(entry.kind, entry.id);
  if (snapshot?.can(event)) tx.send([{ kind: entry.kind, id: entry.id, event }]);
};

/** What each durable timer does when it fires, by timer name (default: {@link deliverTimerEvent}). */
export class TimerHandlers {
  private readonly byName = new Map<string, TimerHandler>();

  /** Registers what a timer named `name` does when it fires. */
  on(name: string, handler: TimerHandler): void {
    this.byName.set(name, handler);
  }

  /** Cancels the timer and reacts to it, in the unit of work `tx`. */
  fire(tx: Tx, entry: TimerEntry): void {
    tx.cancelTimer(entry.kind, entry.id, entry.name);
    (this.byName.get(entry.name) ?? deliverTimerEvent)(tx, entry);
  }
}
