import { BACKENDS } from '../support/backends.js';
import { httpSuite } from './api-suite.js';

for (const backend of BACKENDS) httpSuite(backend);
