import { EVENT_BACKENDS } from '../support/backends.js';
import { storeContract } from './contract.js';

for (const backend of EVENT_BACKENDS) storeContract(backend);
