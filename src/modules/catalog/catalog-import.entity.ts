import { Check, Entity, Enum, Index, ManyToOne, type Opt, PrimaryKey, Property, type Ref, ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';
import { User } from '../accounts/user.entity';

export const IMPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export const IMPORT_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/**
 * An uploaded catalog file and how far its job got. The file lives in the row (any worker node can
 * read it) until the import ends. `rows_done` and the counters advance in the transaction of each
 * batch, so after a crash the job resumes after the last committed batch.
 */
@Entity({ tableName: 'catalog_imports' })
@Check({ name: 'catalog_imports_progress_check', expression: 'rows_done >= 0 and created >= 0 and updated >= 0 and rejected >= 0 and created + updated + rejected <= rows_done' })
export class CatalogImport extends BaseEntity {
  /** Who uploaded it (the rows are applied with their rights, as at upload). */
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: 'catalog_imports_user_id_index' })
  user: Ref<User>;

  /** Whether the uploader was an admin when uploading (else a vendor: only their own products). */
  @Property({ type: 'boolean' })
  asAdmin: boolean;

  @Enum({ items: () => [...IMPORT_FORMATS] })
  format: ImportFormat;

  @Enum({ items: () => [...IMPORT_STATUSES], default: 'queued' })
  status: ImportStatus & Opt = 'queued';

  /** The file as uploaded; emptied when the import ends. Lazy: only the job reads it. */
  @Property({ type: 'blob', nullable: true, lazy: true })
  file: Buffer | null = null;

  @Property({ type: 'integer', nullable: true })
  rowsTotal: number | null = null;

  @Property({ type: 'integer', default: 0 })
  rowsDone: number & Opt = 0;

  @Property({ type: 'integer', default: 0 })
  created: number & Opt = 0;

  @Property({ type: 'integer', default: 0 })
  updated: number & Opt = 0;

  @Property({ type: 'integer', default: 0 })
  rejected: number & Opt = 0;

  @Property({ type: 'string', length: 1024, nullable: true })
  failureReason: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  finishedAt: Date | null = null;

  constructor(userId: number, asAdmin: boolean, format: ImportFormat, file: Buffer) {
    super();
    this.user = ref(User, userId);
    this.asAdmin = asAdmin;
    this.format = format;
    this.file = file;
  }
}

/** A rejected row of an import: its number in the file, the field at fault and why. */
@Entity({ tableName: 'catalog_import_issues' })
// An import's rejected rows in file order (its first 100 on GET, the cursor list of all).
@Index({ name: 'catalog_import_issues_import_row_idx', properties: ['catalogImport', 'row', 'id'] })
export class CatalogImportIssue {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => CatalogImport, { ref: true, deleteRule: 'cascade', fieldName: 'import_id' })
  catalogImport!: Ref<CatalogImport>;

  @Property({ type: 'integer' })
  row!: number;

  @Property({ type: 'string', length: 100 })
  field!: string;

  @Property({ type: 'string', length: 1024 })
  message!: string;
}
