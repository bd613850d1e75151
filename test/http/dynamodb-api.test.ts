import { dynamodbBackend } from '../support/dynamodb-backend.js';
import { httpSuite } from './api-suite.js';

httpSuite(dynamodbBackend);
