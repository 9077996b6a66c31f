import { JobqCommand } from '../cli/base-command.js';
import { openPostgresBackend } from '../backends/postgres/backend.js';

export default class MigrateCommand extends JobqCommand {
  static override summary = 'Create or upgrade the PostgreSQL schema of pg/NAME queues.';
  static override description =
    'Workers and producers do this by themselves when their role may create tables; for roles that may not, run it ' +
    'once as one that may. The database is that of a pg/NAME or postgres:// spec given first, else --db-url, ' +
    'JOBQ_DATABASE_URL, DATABASE_URL or the PG* variables; the schema is jobq unless JOBQ_PG_SCHEMA or ?schema= ' +
    'in the URL says otherwise. Safe to run while workers run, and from several machines at once.';
  static override examples = [
    'JOBQ_DATABASE_URL=postgres://admin@db.example.org/jobs <%= config.bin %> migrate',
    '<%= config.bin %> postgres://admin@db.example.org/jobs/any migrate',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(MigrateCommand);
    this.makeLogger(flags);
    const connection = this.postgresConnection(flags);
    const backend = openPostgresBackend(connection);
    try {
      const { from, to } = await backend.migrate();
      this.log(
        from === to
          ? `schema ${connection.schema} of ${connection.url} is up to date (version ${to})`
          : `schema ${connection.schema} of ${connection.url} migrated from version ${from} to ${to}`,
      );
    } finally {
      await backend.close();
    }
  }
}
