import { join } from 'node:path';
import { describeHostPackagesContract } from '../../test/support/host-packages-contract.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

const dir = tempDir();

describeHostPackagesContract('sqlite', {
  async open(name, options = {}) {
    return SqliteKnownHashStore.open(join(dir, `${name}.sqlite`), options);
  },
});
