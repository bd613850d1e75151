import { EVENT_BACKENDS } from '../support/backends.js';
import { storeContract } from './contract.js';
import { mergeContract } from './merge-contract.js';

for (const backend of EVENT_BACKENDS) {
  storeContract(backend);
  mergeContract(backend);
}
