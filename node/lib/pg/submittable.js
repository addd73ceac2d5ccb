'use strict';
// Submittable queries (pg-cursor, pg-query-stream): objects that drive the
// protocol themselves through the connection they are given (parse, bind,
// describe, execute, sync, close) and take the server's answers through
// their handle* methods.  A pgatomic session speaks to libpq, not to the
// wire: the statement is streamed (node/lib/stream.js) and its rows are
// handed out as the server hands out a portal's: rowDescription (or
// noData), `rows` dataRows per execute, portalSuspended until the last,
// commandComplete, readyForQuery.  At most one chunk is read ahead of what
// the cursor asked for, so memory stays bounded by the chunk size and a
// cursor nobody reads stops the server.
const { EventEmitter } = require('events');

class PortalConnection extends EventEmitter {
  // open(text, values) -> a source { first: Promise<chunk>, next():
  // Promise<chunk>, close(): Promise }, chunks being raw results ({ tag,
  // fields, rows: [[text | null]] }) with `done` on the last; end() ends
  // the client (pg-cursor's deprecated end()).
  constructor(query, open, end) {
    super();
    this._query = query;
    this._open = open;
    this._end = end;
    this._text = '';
    this._values = [];
    this._source = null;
    this._rows = [];        // the chunk being handed out
    this._next = 0;
    this._last = false;     // _rows is the last chunk
    this._tag = '';
    this._ahead = null;     // the next chunk, asked for already
    this._fetching = false; // waiting for _ahead
    this._started = false;
    this._ready = false;
    this._want = 0;         // rows still owed to the last execute
    this._executing = false;
    this._closing = null;
    this._sync = false;
    this._scheduled = false;
    this._failed = false;   // the statement failed: no rows, no handleReadyForQuery
    this._complete = false; // commandComplete was sent
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
    this._want = msg && msg.rows > 0 ? msg.rows : Infinity;
    this._executing = true;
  }

  // Closing the portal ends the statement on the session (the rest of its
  // rows are never decoded); the Sync that follows waits for that.
  close() {
    if (this._closing) return;
    this._closing = (async () => {
      if (this._source) await this._source.close().catch(() => {});
    })();
  }

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
    let chunk;
    try {
      this._source = this._open(this._text, this._values);
      chunk = await this._source.first;
    } catch (err) {
      this._fail(err);
      return;
    }
    if (chunk.fields.length === 0) {
      this.emit('noData');
    } else {
      const fields = chunk.fields.map((f) => ({ ...f, format: 'text' }));
      this.emit('rowDescription', { name: 'rowDescription', fields });
      this._query.handleRowDescription({ name: 'rowDescription', fields });
    }
    this._take(chunk);
    this._ready = true;
    this._schedule();
  }

  // As from the server: the error, then readyForQuery for the cursor's
  // Sync (the query itself is no longer told of it, as in pg).
  _fail(err) {
    this._failed = true;
    this._ready = true;
    this._executing = false;
    this._query.handleError(err, this);
    this._sync = true;
    this._schedule();
  }

  _take(chunk) {
    this._rows = chunk.rows;
    this._next = 0;
    this._last = chunk.done === true;
    if (this._last) {
      this._tag = chunk.tag;
    } else {
      this._ahead = this._source.next();
      this._ahead.catch(() => {});
    }
  }

  // Answers come after the call that asked for them returns, as from a
  // socket.
  _schedule() {
    if (this._scheduled || !this._ready || this._fetching) return;
    this._scheduled = true;
    setImmediate(() => {
      this._scheduled = false;
      this._pump();
    });
  }

  _pump() {
    if (this._executing && !this._failed && !this._closing) {
      const rows = this._rows;
      while (this._want > 0 && this._next < rows.length) {
        const fields = rows[this._next];
        rows[this._next++] = undefined;  // handed over: let it go
        this._want--;
        this._query.handleDataRow({ name: 'dataRow', fields });
      }
      if (this._want === 0) {
        this._executing = false;
        this._query.handlePortalSuspended(this);
      } else if (this._next < rows.length) {
        return;  // unreachable: the loop took every row it could
      } else if (this._last) {
        this._executing = false;
        this._complete = true;
        this._query.handleCommandComplete({ name: 'commandComplete', text: this._tag }, this);
      } else {
        this._fetchAhead();
        return;
      }
    }
    if (this._sync) {
      this._sync = false;
      const closing = this._closing || Promise.resolve();
      closing.then(() => {
        this._idle = true;
        this.emit('readyForQuery');
        if (!this._failed) this._query.handleReadyForQuery(this);
        this._finish();
      });
    }
  }

  // The rows of this execute run past the chunk: wait for the next one.
  async _fetchAhead() {
    this._fetching = true;
    const ahead = this._ahead;
    this._ahead = null;
    let chunk;
    try {
      chunk = await ahead;
    } catch (err) {
      this._fetching = false;
      this._fail(err);
      return;
    }
    this._fetching = false;
    this._take(chunk);
    this._pump();
  }
}

// A whole result as a source of one chunk (statements that are not
// streamed: see Client._stream).
function wholeSource(promise) {
  return {
    first: promise.then((raw) => ({ ...raw, done: true })),
    next: () => Promise.reject(new Error('pgatomic: no chunk after the last')),
    close: () => Promise.resolve(),
  };
}

module.exports = { PortalConnection, wholeSource };
