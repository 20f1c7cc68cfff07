package spec

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits Azure Table storage places on requests; ValidateBatch enforces
// them.
const (
	MaxKeyBytes        = 1024      // PartitionKey and RowKey: at most 1 KiB each (UTF-8 bytes)
	MaxPropertyName    = 255       // property name length in characters
	MaxProperties      = 252       // user properties per entity
	MaxStringUTF16     = 32 * 1024 // Edm.String: at most 64 KiB as UTF-16, i.e. 32 Ki code units
	MaxBinaryBytes     = 64 * 1024 // Edm.Binary: at most 64 KiB
	reservedPropsNames = "PartitionKey, RowKey, Timestamp, ETag"
)

// Earliest and latest Edm.DateTime values Azure accepts.
var (
	minDateTime = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.UTC)
)

// ValidateBatch reports the first caller error in a batch, as a 400
// *Error with Code "InvalidInput" (or "OutOfRangeInput" for a limit) and
// a message saying what is wrong, or nil when the batch is well formed.
//
// Whole-request errors have Index -1: an empty batch, or more than
// MaxBatch operations. Otherwise Index is the first offending operation,
// checking operations in order, each for (in this order):
//
//   - an unknown OpKind;
//   - an invalid key: PartitionKey and RowKey must be valid UTF-8 of at
//     most MaxKeyBytes bytes, without '/', '\\', '#', '?' or control
//     characters (U+0000–U+001F, U+007F–U+009F); empty keys are allowed;
//   - for Replace, Merge and Delete, an empty ETag (If-Match is
//     required; use AnyETag for an unconditional write);
//   - for non-deletes, invalid properties (the first in name order): more
//     than MaxProperties; a name that is reserved (PartitionKey, RowKey,
//     Timestamp, ETag), empty, longer than MaxPropertyName, or not an
//     identifier (a letter or '_' followed by letters, digits or '_'); a
//     zero Value; a String that is not valid UTF-8 or longer than
//     MaxStringUTF16 UTF-16 code units; a Binary longer than
//     MaxBinaryBytes; a DateTime before 1601-01-01 or after 9999-12-31;
//   - a PartitionKey different from operation 0's;
//   - a key already used by an earlier operation;
//   - a DeleteIfExists in a batch of more than one operation (checked
//     after the operation itself is found well formed), with the
//     message ErrDeleteIfExistsNotAlone gives.
//
// Properties of delete operations are ignored, as Azure ignores them.
func ValidateBatch(ops []Op) error {
	if len(ops) == 0 {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput", Message: "empty batch: a batch needs 1 to 100 operations"}
	}
	if len(ops) > MaxBatch {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("batch of %d operations: at most %d are allowed", len(ops), MaxBatch)}
	}
	for i, op := range ops {
		if msg := validateOp(op); msg != "" {
			return &Error{Status: StatusBadRequest, Index: i, Code: "InvalidInput", Message: msg}
		}
		k := op.Entity.Key
		if k.PartitionKey != ops[0].Entity.PartitionKey {
			return &Error{Status: StatusBadRequest, Index: i, Code: "InvalidInput",
				Message: fmt.Sprintf("PartitionKey %s differs from operation 0's %s: a batch must stay in one partition",
					quote(k.PartitionKey), quote(ops[0].Entity.PartitionKey))}
		}
		// Quadratic, but a batch holds at most MaxBatch operations and
		// this allocates nothing.
		for j := range i {
			if ops[j].Entity.Key == k {
				return &Error{Status: StatusBadRequest, Index: i, Code: "InvalidInput",
					Message: fmt.Sprintf("row %s is also the target of operation %d: a batch may touch each row once", k, j)}
			}
		}
		if op.Kind == DeleteIfExists && len(ops) > 1 {
			return ErrDeleteIfExistsNotAlone(i, len(ops))
		}
	}
	return nil
}

// ErrDeleteIfExistsNotAlone is the 400 *Error ValidateBatch returns for
// a DeleteIfExists at operation i of a batch of n > 1 operations. Its
// message is "DeleteIfExists must be the only operation of its batch
// (this batch has n): Azure cannot assert that a row is absent inside a
// multi-operation transaction without writing it; send the
// DeleteIfExists alone, or use Delete (If-Match \"*\") when the row
// must exist".
func ErrDeleteIfExistsNotAlone(i, n int) *Error {
	return &Error{Status: StatusBadRequest, Index: i, Code: "InvalidInput",
		Message: fmt.Sprintf("DeleteIfExists must be the only operation of its batch (this batch has %d): "+
			"Azure cannot assert that a row is absent inside a multi-operation transaction without writing it; "+
			"send the DeleteIfExists alone, or use Delete (If-Match \"*\") when the row must exist", n)}
}

// validateOp returns what is wrong with one operation in isolation, or "".
func validateOp(op Op) string {
	if int(op.Kind) >= len(opNames) {
		return fmt.Sprintf("unknown operation kind %d", op.Kind)
	}
	if msg := validateKeyPart(PartitionKeyProp, op.Entity.PartitionKey); msg != "" {
		return op.Kind.String() + ": " + msg
	}
	if msg := validateKeyPart(RowKeyProp, op.Entity.RowKey); msg != "" {
		return op.Kind.String() + ": " + msg
	}
	if op.Kind.NeedsIfMatch() && op.Entity.ETag == "" {
		return op.Kind.String() + " of " + op.Entity.Key.String() + " has an empty ETag: If-Match is required (use \"*\" to match any version)"
	}
	if op.Kind.IsDelete() {
		return ""
	}
	if msg := ValidateProps(op.Entity.Props); msg != nil {
		return op.Kind.String() + " of " + op.Entity.Key.String() + ": " + msg.Error()
	}
	return ""
}

// ValidateKey reports whether k is a key Azure accepts for a write, and
// if not, an error saying why.
func ValidateKey(k Key) error {
	if msg := validateKeyPart(PartitionKeyProp, k.PartitionKey); msg != "" {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput", Message: msg}
	}
	if msg := validateKeyPart(RowKeyProp, k.RowKey); msg != "" {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput", Message: msg}
	}
	return nil
}

func validateKeyPart(name, s string) string {
	if len(s) > MaxKeyBytes {
		return fmt.Sprintf("%s is %d bytes long: at most %d are allowed", name, len(s), MaxKeyBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%s %s is not valid UTF-8", name, quote(s))
	}
	for i, r := range s {
		switch {
		case r == '/' || r == '\\' || r == '#' || r == '?':
			return fmt.Sprintf("%s %s contains the forbidden character %q at byte %d", name, quote(s), r, i)
		case r <= 0x1f || (r >= 0x7f && r <= 0x9f):
			return fmt.Sprintf("%s %q contains the control character %U at byte %d", name, s, r, i)
		}
	}
	return ""
}

// ValidateProps reports the first invalid property (in name order) of a
// written entity, as a 400 *Error with Index -1, or nil. See
// ValidateBatch for the rules.
func ValidateProps(p Props) error {
	bad := func(format string, args ...any) error {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput", Message: fmt.Sprintf(format, args...)}
	}
	if len(p) > MaxProperties {
		return bad("%d properties: at most %d are allowed", len(p), MaxProperties)
	}
	// Fast path: no sorting unless something is wrong; then report the
	// first offender in name order, so the message is deterministic.
	ok := true
	for name, v := range p {
		if validateProp(name, v) != "" {
			ok = false
			break
		}
	}
	if ok {
		return nil
	}
	for _, name := range p.Names() {
		if msg := validateProp(name, p[name]); msg != "" {
			return bad("%s", msg)
		}
	}
	return nil
}

// validateProp returns what is wrong with one property, or "".
func validateProp(name string, v Value) string {
	if msg := validatePropName(name); msg != "" {
		return msg
	}
	switch v.Type() {
	case TypeString:
		if !utf8.ValidString(v.s) {
			return fmt.Sprintf("property %s: string value is not valid UTF-8", name)
		}
		if len(v.s) > MaxStringUTF16 { // only then can it exceed the limit
			if n := utf16Len(v.s); n > MaxStringUTF16 {
				return fmt.Sprintf("property %s: string value is %d UTF-16 code units long: at most %d are allowed", name, n, MaxStringUTF16)
			}
		}
	case TypeBinary:
		if len(v.s) > MaxBinaryBytes {
			return fmt.Sprintf("property %s: binary value is %d bytes long: at most %d are allowed", name, len(v.s), MaxBinaryBytes)
		}
	case TypeDateTime:
		if v.AsTime().Before(minDateTime) {
			return fmt.Sprintf("property %s: datetime %s is before 1601-01-01, the earliest Azure accepts", name, v.AsTime().Format(time.RFC3339Nano))
		}
		if v.AsTime().After(maxDateTime) {
			return fmt.Sprintf("property %s: datetime %s is after 9999-12-31, the latest Azure accepts", name, v.AsTime().Format(time.RFC3339Nano))
		}
	case TypeBool, TypeInt32, TypeInt64, TypeDouble, TypeGUID:
	default:
		return fmt.Sprintf("property %s has the zero Value (type %d): build values with the constructors", name, v.Type())
	}
	return ""
}

func validatePropName(name string) string {
	switch name {
	case "":
		return "empty property name"
	case PartitionKeyProp, RowKeyProp, "Timestamp", "ETag":
		return fmt.Sprintf("property name %s is reserved (%s are system properties)", name, reservedPropsNames)
	}
	if n := utf8.RuneCountInString(name); n > MaxPropertyName {
		return fmt.Sprintf("property name %.20q... is %d characters long: at most %d are allowed", name, n, MaxPropertyName)
	}
	if !utf8.ValidString(name) {
		return fmt.Sprintf("property name %q is not valid UTF-8", name)
	}
	for i, r := range name {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		return fmt.Sprintf("property name %q has %q at byte %d: a name is a letter or '_' followed by letters, digits or '_'", name, r, i)
	}
	return ""
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
