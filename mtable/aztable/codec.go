package aztable

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/spec"
)

// Wire names of the system properties and annotations.
const (
	pkProp        = "PartitionKey"
	rkProp        = "RowKey"
	timestampProp = "Timestamp"
	etagProp      = "odata.etag"
	typeSuffix    = "@odata.type"
)

// dateTimeLayout is the form Azure stores: 100 ns ticks, UTC.
const dateTimeLayout = "2006-01-02T15:04:05.0000000Z"

// encodeEntity returns the JSON body for writing e: keys and every user
// property with its EDM annotation (so that, for example, a Double 2.0
// is not read back as an Int32).
func encodeEntity(k spec.Key, props spec.Props) ([]byte, error) {
	m := make(map[string]any, 2+2*len(props))
	m[pkProp] = k.PartitionKey
	m[rkProp] = k.RowKey
	for _, name := range props.Names() {
		v := props[name]
		var (
			x   any
			ann = v.Type().String()
		)
		switch v.Type() {
		case spec.TypeString:
			x, ann = v.Str(), ""
		case spec.TypeBool:
			x, ann = v.AsBool(), ""
		case spec.TypeInt32:
			x = v.AsInt()
		case spec.TypeInt64:
			x = strconv.FormatInt(v.AsInt(), 10)
		case spec.TypeDouble:
			f := v.AsDouble()
			switch {
			case math.IsNaN(f):
				x = "NaN"
			case math.IsInf(f, 1):
				x = "Infinity"
			case math.IsInf(f, -1):
				x = "-Infinity"
			default:
				x = json.RawMessage(formatDouble(f))
			}
		case spec.TypeDateTime:
			x = v.AsTime().Format(dateTimeLayout)
		case spec.TypeGUID:
			x = v.Str()
		case spec.TypeBinary:
			x = base64.StdEncoding.EncodeToString(v.AsBytes())
		default:
			return nil, fmt.Errorf("property %q has an invalid value (zero spec.Value)", name)
		}
		m[name] = x
		if ann != "" {
			m[name+typeSuffix] = ann
		}
	}
	return json.Marshal(m)
}

// formatDouble prints a finite double as a JSON number that always has
// a fraction or exponent.
func formatDouble(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// decodeEntity parses one entity as the service returns it (JSON with
// odata metadata).
func decodeEntity(data []byte) (spec.Entity, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return spec.Entity{}, fmt.Errorf("decoding entity from the service: %v", err)
	}
	var e spec.Entity
	pk, ok1 := m[pkProp].(string)
	rk, ok2 := m[rkProp].(string)
	if !ok1 || !ok2 {
		return spec.Entity{}, fmt.Errorf("entity from the service lacks PartitionKey or RowKey")
	}
	e.Key = spec.Key{PartitionKey: pk, RowKey: rk}
	if s, ok := m[etagProp].(string); ok {
		e.ETag = spec.ETag(s)
	}
	if s, ok := m[timestampProp].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			e.Timestamp = t.UTC()
		}
	}
	for name, raw := range m {
		if name == pkProp || name == rkProp || name == timestampProp || strings.HasPrefix(name, "odata.") || strings.Contains(name, "@") {
			continue
		}
		ann, _ := m[name+typeSuffix].(string)
		v, err := decodeValue(raw, ann)
		if err != nil {
			return spec.Entity{}, fmt.Errorf("property %q of %v: %v", name, e.Key, err)
		}
		if e.Props == nil {
			e.Props = spec.Props{}
		}
		e.Props[name] = v
	}
	return e, nil
}

func decodeValue(raw any, ann string) (spec.Value, error) {
	str := func() (string, error) {
		s, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("%s value is %T, want a JSON string", ann, raw)
		}
		return s, nil
	}
	switch ann {
	case "":
		switch x := raw.(type) {
		case string:
			return spec.String(x), nil
		case bool:
			return spec.Bool(x), nil
		case json.Number:
			s := x.String()
			if !strings.ContainsAny(s, ".eE") {
				if i, err := strconv.ParseInt(s, 10, 32); err == nil {
					return spec.Int32(int32(i)), nil
				}
			}
			f, err := x.Float64()
			if err != nil {
				return spec.Value{}, fmt.Errorf("number %s: %v", s, err)
			}
			return spec.Double(f), nil
		}
		return spec.Value{}, fmt.Errorf("unannotated value of JSON type %T", raw)
	case "Edm.String":
		s, err := str()
		return spec.String(s), err
	case "Edm.Boolean":
		b, ok := raw.(bool)
		if !ok {
			return spec.Value{}, fmt.Errorf("Edm.Boolean value is %T", raw)
		}
		return spec.Bool(b), nil
	case "Edm.Int32":
		n, ok := raw.(json.Number)
		if !ok {
			return spec.Value{}, fmt.Errorf("Edm.Int32 value is %T", raw)
		}
		i, err := strconv.ParseInt(n.String(), 10, 32)
		return spec.Int32(int32(i)), err
	case "Edm.Int64":
		s, err := str()
		if err != nil {
			return spec.Value{}, err
		}
		i, err := strconv.ParseInt(s, 10, 64)
		return spec.Int64(i), err
	case "Edm.Double":
		switch x := raw.(type) {
		case json.Number:
			f, err := x.Float64()
			return spec.Double(f), err
		case string:
			switch x {
			case "NaN":
				return spec.Double(math.NaN()), nil
			case "Infinity", "INF":
				return spec.Double(math.Inf(1)), nil
			case "-Infinity", "-INF":
				return spec.Double(math.Inf(-1)), nil
			}
			f, err := strconv.ParseFloat(x, 64)
			return spec.Double(f), err
		}
		return spec.Value{}, fmt.Errorf("Edm.Double value is %T", raw)
	case "Edm.DateTime":
		s, err := str()
		if err != nil {
			return spec.Value{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return spec.DateTime(t), err
	case "Edm.Guid":
		s, err := str()
		if err != nil {
			return spec.Value{}, err
		}
		return spec.ParseGUID(s)
	case "Edm.Binary":
		s, err := str()
		if err != nil {
			return spec.Value{}, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		return spec.Binary(b), err
	}
	return spec.Value{}, fmt.Errorf("unknown EDM type %q", ann)
}
