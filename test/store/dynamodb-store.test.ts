import { dynamodbBackend } from '../support/dynamodb-backend.js';
import { storeContract } from './contract.js';

storeContract(dynamodbBackend);
