import { Client } from 'pg';
import { createTestDatabase, describeWithPostgres } from './postgres';

describeWithPostgres('the throwaway PostgreSQL cluster', () => {
  it('gives each caller a database of its own, dropped by drop()', async () => {
    const a = await createTestDatabase('helper');
    const b = await createTestDatabase('helper');
    expect(a.name).not.toBe(b.name);
    const client = new Client({ connectionString: a.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(rows[0].db).toBe(a.name);
    } finally {
      await client.end();
    }
    await a.drop();
    await b.drop();
    const check = new Client({ connectionString: a.url });
    await expect(check.connect()).rejects.toThrow(/does not exist/);
  });
});
