/** Where a job stands in its workflow: what the phase actor keeps. */
export interface PhasePosition {
  workflow: { name: string; version: number };
  phase: string;
  /** Counts the moves; a move is planned for one epoch, so a stale plan (planned before another move) is refused. */
  epoch: number;
  round: number;
}

/** A planned move as the phase actor receives it (the parts of `planTransition`'s answer it needs). */
export interface PhaseMove {
  workflow: { name: string; version: number };
  /** The epoch the move was planned at. */
  epoch: number;
  from: string;
  to: string;
  allowed: boolean;
  final: boolean;
  /** The review round after the move. */
  round: number;
}

/**
 * Whether the phase actor takes a planned move: it was allowed, planned for this workflow version, from the
 * current phase, at the current epoch (no other move happened since), to the phase requested. Pure.
 */
export function admitsMove(position: PhasePosition, to: string, move: PhaseMove): boolean {
  return (
    move.allowed &&
    move.to === to &&
    move.from === position.phase &&
    move.epoch === position.epoch &&
    move.workflow.name === position.workflow.name &&
    move.workflow.version === position.workflow.version &&
    move.round >= position.round
  );
}
