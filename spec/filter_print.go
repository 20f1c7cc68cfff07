package spec

// String prints "Property op literal".
func (c Comparison) String() string {
	return c.Property + " " + c.Op.String() + " " + c.Value.Literal()
}

// String prints "(L) and (R)".
func (a And) String() string { return "(" + a.L.String() + ") and (" + a.R.String() + ")" }

// String prints "(L) or (R)".
func (o Or) String() string { return "(" + o.L.String() + ") or (" + o.R.String() + ")" }

// String prints "not (X)".
func (n Not) String() string { return "not (" + n.X.String() + ")" }

// FilterString prints f, or "" for the nil filter that matches all.
func FilterString(f Filter) string {
	if f == nil {
		return ""
	}
	return f.String()
}
