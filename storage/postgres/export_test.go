package postgres

// Sever cuts the leader's connection the way a killed process does: no
// unlock, no goodbye to the server.
func (l *Lease) Sever() { _ = l.conn.PgConn().Conn().Close() }
