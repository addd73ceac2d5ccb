'use strict';
// pg's Result from the addon's raw result (each cell's text or null, the
// column type OIDs): values go through the consumer's type parsers, looked
// up as pg looks them up (the query's `types`, else the client's overrides
// and config types, else pg-types), rows as objects or, with rowMode
// 'array', as arrays.
const pgTypes = require('pg-types');

// The command tag: "INSERT 0 3", "UPDATE 2", "SELECT 1", "CREATE TABLE".
const TAG = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/;

// Own properties, in pg's order: TypeORM tests them with hasOwnProperty.
class Result {
  constructor(rowMode, types) {
    this.command = null;
    this.rowCount = null;
    this.oid = null;
    this.rows = [];
    this.fields = [];
    this._types = types;
    this.rowAsArray = rowMode === 'array';
  }

  _setTag(tag) {
    const m = TAG.exec(tag || '');
    if (!m) return;
    this.command = m[1];
    if (m[3] !== undefined) {
      this.oid = parseInt(m[2], 10);
      this.rowCount = parseInt(m[3], 10);
    } else if (m[2] !== undefined) {
      this.rowCount = parseInt(m[2], 10);
    }
  }

  // raw: { tag, fields: [{ name, dataTypeID }], rows: [[text | null, ...]] }.
  // Throws what a type parser throws (the query then rejects with it).
  _fill(raw) {
    this._setTag(raw.tag);
    const types = this._types || pgTypes;
    const fields = raw.fields.map((f) => ({
      name: f.name,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeID: f.dataTypeID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: 'text',
    }));
    this.fields = fields;
    const parsers = fields.map((f) => types.getTypeParser(f.dataTypeID, 'text'));
    const n = fields.length;
    const rows = new Array(raw.rows.length);
    if (this.rowAsArray) {
      for (let r = 0; r < rows.length; r++) {
        const cells = raw.rows[r];
        const row = new Array(n);
        for (let c = 0; c < n; c++) row[c] = cells[c] === null ? null : parsers[c](cells[c]);
        rows[r] = row;
      }
    } else {
      // Keys in column order; a repeated name keeps its first place and
      // the last value, as in pg.  The template's keys are defined, so a
      // column named __proto__ becomes an own key that the spread copies
      // and the assignment below then sets as data (pg's way), instead of
      // replacing the row's prototype with the column's value.  (A
      // null-prototype template does the same, but is a dictionary: each
      // copy costs about 5x more.)
      const empty = {};
      for (const f of fields) {
        Object.defineProperty(empty, f.name, { value: null, writable: true, enumerable: true, configurable: true });
      }
      for (let r = 0; r < rows.length; r++) {
        const cells = raw.rows[r];
        const row = { ...empty };
        for (let c = 0; c < n; c++) {
          row[fields[c].name] = cells[c] === null ? null : parsers[c](cells[c]);
        }
        rows[r] = row;
      }
    }
    this.rows = rows;
    return this;
  }

  addRow(row) {
    this.rows.push(row);
  }
}

// pg's TypeOverrides: parsers set on one client, over its config `types`
// (or pg-types).
class TypeOverrides {
  constructor(userTypes) {
    this._types = userTypes || pgTypes;
    this.text = {};
    this.binary = {};
  }

  getOverrides(format) {
    if (format === 'text') return this.text;
    if (format === 'binary') return this.binary;
    return {};
  }

  setTypeParser(oid, format, parseFn) {
    if (typeof format === 'function') {
      parseFn = format;
      format = 'text';
    }
    this.getOverrides(format)[oid] = parseFn;
  }

  getTypeParser(oid, format) {
    const f = format || 'text';
    return this.getOverrides(f)[oid] || this._types.getTypeParser(oid, f);
  }
}

module.exports = { Result, TypeOverrides };
