import { sqliteBackend } from '../support/sqlite-backend.js';
import { httpSuite } from './api-suite.js';

httpSuite(sqliteBackend);
