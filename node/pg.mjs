// import pg from 'pgatomic/pg' and import { Client, Pool } from 'pgatomic/pg'.
import pg from './lib/pg/index.js';

export default pg;
export const {
  Client, Pool, types, defaults, DatabaseError, escapeIdentifier, escapeLiteral, Result,
  TypeOverrides, utils,
} = pg;
