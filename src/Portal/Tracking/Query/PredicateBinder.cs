namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// Checks that an operator and its values make sense for an operand, and puts the values in stored form.
/// Metrics are numbers; tags and the text attributes are text; a param is compared numerically (its
/// NumValue) against numbers and as text against strings; times take ISO-8601 text; status and kind take
/// their names.
/// </summary>
internal static class PredicateBinder
{
    public static Predicate Bind(Operand operand, PredicateOperator op, FilterToken opToken, IReadOnlyList<Literal> values, FilterTokenizer tokens)
    {
        var isLike = op is PredicateOperator.Like or PredicateOperator.NotLike;
        if (isLike && values[0].Value is not string)
        {
            throw tokens.Error(values[0].Position, $"'like' needs a quoted pattern, as in '%{values[0].Raw}%'.");
        }
        return operand.Kind switch
        {
            OperandKind.Metric => BindMetric(operand, op, opToken, values, tokens, isLike),
            OperandKind.Param => BindParam(operand, op, values, tokens),
            OperandKind.Tag => new Predicate(operand, op, Texts(operand, values, tokens)),
            _ => BindAttribute(RunAttribute.Get(operand.Key), operand, op, opToken, values, tokens, isLike),
        };
    }

    private static Predicate BindMetric(Operand operand, PredicateOperator op, FilterToken opToken, IReadOnlyList<Literal> values,
        FilterTokenizer tokens, bool isLike)
    {
        if (isLike) throw tokens.Error(opToken.Position, $"{operand} is a number; 'like' works on params, tags and text attributes.");
        return new Predicate(operand, op, Numbers(operand, values, tokens, integer: false));
    }

    private static Predicate BindParam(Operand operand, PredicateOperator op, IReadOnlyList<Literal> values, FilterTokenizer tokens)
    {
        var numeric = values[0].Value is double;
        var odd = values.FirstOrDefault(v => v.Value is double != numeric);
        if (odd.Raw is not null)
        {
            throw tokens.Error(odd.Position,
                $"the list mixes numbers and text; {operand} is compared as a number with numbers and as text with strings, so use one or the other.");
        }
        return new Predicate(operand, op, values.Select(v => v.Value).ToList());
    }

    private static Predicate BindAttribute(RunAttribute attribute, Operand operand, PredicateOperator op, FilterToken opToken,
        IReadOnlyList<Literal> values, FilterTokenizer tokens, bool isLike)
    {
        if (isLike && attribute.Type != AttributeType.Text)
        {
            throw tokens.Error(opToken.Position, $"'like' works on text; {operand} is {Describe(attribute.Type)}.");
        }
        switch (attribute.Type)
        {
            case AttributeType.Integer:
                return new Predicate(operand, op, Numbers(operand, values, tokens, integer: true));
            case AttributeType.Real:
                return new Predicate(operand, op, Numbers(operand, values, tokens, integer: false));
            case AttributeType.Text:
                return new Predicate(operand, op, Texts(operand, values, tokens));
            case AttributeType.Time:
                return new Predicate(operand, op, Texts(operand, values, tokens).Select((text, i) => (object)(RunAttribute.NormaliseTime((string)text)
                    ?? throw tokens.Error(values[i].Position,
                        $"{values[i].Raw} is not an ISO-8601 date or time; write '2026-11-01', '2026-11-01T10:00:00Z' or '2026-11-01T10:00:00+02:00'."))).ToList());
        }

        var (names, what) = attribute.Type == AttributeType.Status ? (RunAttribute.Statuses, "status") : (RunAttribute.Kinds, "kind");
        if (op is not (PredicateOperator.Equal or PredicateOperator.NotEqual or PredicateOperator.In or PredicateOperator.NotIn))
        {
            throw tokens.Error(opToken.Position, $"{operand} supports =, !=, in, not in and is null, not '{opToken.Raw}'.");
        }
        var codes = new List<object>();
        foreach (var literal in values)
        {
            var index = literal.Value is string text ? FindIndex(names, text) : -1;
            if (index < 0)
            {
                throw tokens.Error(literal.Position, $"unknown {what} {literal.Raw}; it is one of {string.Join(", ", names.Select(n => $"'{n}'"))}.");
            }
            codes.Add((long)index);
        }
        return new Predicate(operand, op, codes);
    }

    private static int FindIndex(IReadOnlyList<string> names, string text)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], text.Trim(), StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    private static string Describe(AttributeType type) => type switch
    {
        AttributeType.Integer or AttributeType.Real => "a number",
        AttributeType.Time => "a time",
        AttributeType.Status => "a status",
        AttributeType.Kind => "a kind",
        _ => "text",
    };

    private static List<object> Numbers(Operand operand, IReadOnlyList<Literal> values, FilterTokenizer tokens, bool integer)
    {
        var result = new List<object>(values.Count);
        foreach (var literal in values)
        {
            if (literal.Value is not double number)
            {
                throw tokens.Error(literal.Position, $"{operand} is a number; compare it with a number, not the string {literal.Raw}.");
            }
            // Whole numbers go in as integers so that an INTEGER column compares them exactly.
            result.Add(integer && Math.Floor(number) == number && Math.Abs(number) < 9e15 ? (long)number : number);
        }
        return result;
    }

    private static List<object> Texts(Operand operand, IReadOnlyList<Literal> values, FilterTokenizer tokens)
    {
        var result = new List<object>(values.Count);
        foreach (var literal in values)
        {
            if (literal.Value is not string text)
            {
                throw tokens.Error(literal.Position, $"{operand} is text; quote the value, as in '{literal.Raw}'.");
            }
            result.Add(text);
        }
        return result;
    }
}
