/** The databases the master keeps its state in. */
export type StoreDialect = 'sqlite' | 'postgres';
