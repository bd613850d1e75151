import { sqliteBackend } from '../support/sqlite-backend.js';
import { storeContract } from './contract.js';

storeContract(sqliteBackend);
