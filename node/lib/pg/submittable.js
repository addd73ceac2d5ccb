'use strict';
// Submittable queries (pg-cursor, pg-query-stream): objects that drive the
// protocol themselves through the connection they are given (parse, bind,
// describe, execute, sync, close) and take the server's answers through
// their handle* methods.  A pgatomic session speaks to libpq, not to the
// wire, so the statement runs whole and its rows are handed out as the
// server would hand out a portal's: rowDescription (or noData), `rows`
// dataRows per execute, portalSuspended until the last, commandComplete,
// readyForQuery.  The rows wait in memory meanwhile: the cursor bounds what
// is parsed at a time, not what is read from the server.
const { EventEmitter } = require('events');

class PortalConnection extends EventEmitter {
  // run(text, values) -> Promise of the raw result ({ tag, fields, rows }).
  constructor(query, run, end) {
    super();
    this._query = query;
    this._run = run;
    this._end = end;
    this._text = '';
    this._values = [];
    this._raw = null;
    this._next = 0;
    this._started = false;
    this._ready = false;
    this._execute = null;   // rows asked for by the last execute
    this._sync = false;
    this._scheduled = false;
    this._failed = false;   // the statement failed: no rows, no handleReadyForQuery
    this._idle = false;     // readyForQuery was sent
    this.finished = new Promise((resolve) => { this._finish = resolve; });
  }

  // Waiting for readyForQuery once the portal is idle is answered at once:
  // the session is ready (pg-cursor's close() after an error waits so).
  once(event, listener) {
    if (event === 'readyForQuery' && this._idle) {
      setImmediate(listener);
      return this;
    }
    return super.once(event, listener);
  }

  parse(msg) {
    this._text = msg.text;
  }

  bind(msg) {
    this._values = msg.values || [];
  }

  describe() {}

  execute(msg) {
    this._execute = msg && msg.rows > 0 ? msg.rows : Infinity;
  }

  close() {}

  sync() {
    this._sync = true;
    this._schedule();
  }

  flush() {
    if (!this._started) {
      this._started = true;
      this._start();
    } else {
      this._schedule();
    }
  }

  // pg-cursor's end(): the client is ended.
  end() {
    this._end().then(() => this.emit('end'));
  }

  async _start() {
    try {
      this._raw = await this._run(this._text, this._values);
    } catch (err) {
      // As from the server: the error, then readyForQuery for the cursor's
      // Sync (the query itself is no longer told of it, as in pg).
      this._failed = true;
      this._ready = true;
      this._query.handleError(err, this);
      this._sync = true;
      this._schedule();
      return;
    }
    if (this._raw.fields.length === 0) {
      this.emit('noData');
    } else {
      const fields = this._raw.fields.map((f) => ({ ...f, format: 'text' }));
      this.emit('rowDescription', { name: 'rowDescription', fields });
      this._query.handleRowDescription({ name: 'rowDescription', fields });
    }
    this._ready = true;
    this._schedule();
  }

  // Answers come after the call that asked for them returns, as from a
  // socket.
  _schedule() {
    if (this._scheduled || !this._ready) return;
    this._scheduled = true;
    setImmediate(() => {
      this._scheduled = false;
      this._pump();
    });
  }

  _pump() {
    if (this._execute !== null && !this._failed) {
      const rows = this._raw.rows;
      const end = Math.min(rows.length, this._next + this._execute);
      this._execute = null;
      for (; this._next < end; this._next++) {
        this._query.handleDataRow({ name: 'dataRow', fields: rows[this._next] });
      }
      if (this._next < rows.length) {
        this._query.handlePortalSuspended(this);
      } else {
        this._query.handleCommandComplete({ name: 'commandComplete', text: this._raw.tag }, this);
      }
    }
    if (this._sync) {
      this._sync = false;
      this._idle = true;
      this.emit('readyForQuery');
      if (!this._failed) this._query.handleReadyForQuery(this);
      this._finish();
    }
  }
}

module.exports = { PortalConnection };
