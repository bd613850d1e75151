import { EVENT_BACKENDS } from '../support/backends.js';
import { categoryListContract } from './contract-category-list.js';
import { computeJobContract } from './contract-compute-jobs.js';
import { computeHistoryContract } from './contract-history.js';
import { storeContract } from './contract.js';
import { mergeContract } from './merge-contract.js';
import { versionsContract } from './contract-versions.js';

for (const backend of EVENT_BACKENDS) {
  storeContract(backend);
  mergeContract(backend);
  computeHistoryContract(backend);
  computeJobContract(backend);
  if (backend.versions) versionsContract(backend);
  categoryListContract(backend);
}
