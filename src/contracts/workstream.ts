import { z } from 'zod';

export const WorkstreamStatus = {
  PLANNED: 'PLANNED',
  READY: 'READY',
  EXECUTING: 'EXECUTING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
} as const;
export type WorkstreamStatus = (typeof WorkstreamStatus)[keyof typeof WorkstreamStatus];
export const WorkstreamStatusSchema = z.enum(WorkstreamStatus).meta({ id: 'WorkstreamStatus' });
