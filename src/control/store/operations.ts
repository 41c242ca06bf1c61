// Long actions the API answers with 202 (start, stop, snapshot, migrate), polled for progress;
// listed oldest first.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, OperationState, OperationTable } from './tables.js';

export type Operation = Selectable<OperationTable>;
export interface NewOperation {
  kind: string;
  target_kind: string;
  target_id: string;
  user_id: string | null;
  message?: string;
}
export type OperationChanges = Partial<Pick<OperationTable, 'state' | 'progress' | 'message' | 'error' | 'finished_at'>>;
export interface OperationFilter {
  target_kind?: string;
  target_id?: string;
  state?: OperationState;
  user_id?: string;
}

export class OperationRepository extends VersionedRepository<'operations', OperationChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'operations', entity: 'operation', sortKey: 'created_at', stamps: 'versioned' });
  }

  create(input: NewOperation): Promise<Operation> {
    return this.insert({ ...input, state: 'queued', progress: 0, message: input.message ?? '', error: null, finished_at: null });
  }

  list(filter: OperationFilter = {}, page?: PageRequest): Promise<Page<Operation>> {
    return this.listWhere({ target_kind: filter.target_kind, target_id: filter.target_id, state: filter.state, user_id: filter.user_id }, page);
  }
}
