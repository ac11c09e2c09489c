import { memoryStorage } from '../../src/storage/memory/index.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance('memory', async () => ({ storage: memoryStorage() }));
