namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// Reads the filter language of docs/tracking.md into a checked <see cref="FilterExpression"/>, and order-by
/// entries into <see cref="OrderTerm"/>s. Recursive descent over:
/// <code>
/// filter    := or END
/// or        := and ("or" and)*
/// and       := unary ("and" unary)*
/// unary     := "not" unary | "(" or ")" | predicate
/// predicate := operand ( ("=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=") value
///                      | ["not"] "like" string | ["not"] "in" "(" value ("," value)* ")" | "is" ["not"] "null" )
/// operand   := ("metrics" | "params" | "tags" | "attributes") "." key | attribute-name
/// order     := operand ["asc" | "desc"] END
/// </code>
/// Keywords and prefixes are case-insensitive. Every problem is a <see cref="FilterSyntaxException"/>
/// naming the position. Value checks (a status name, an ISO-8601 time, numbers for metrics) happen
/// here too, so a filter that parses will compile.
/// </summary>
public static class FilterParser
{
    public const int MaxFilterLength = 4_000;
    public const int MaxDepth = 64;

    /// <summary>Null for a null, empty or blank filter (every run matches).</summary>
    public static FilterExpression? Parse(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) return null;
        if (filter.Length > MaxFilterLength)
        {
            throw new FilterSyntaxException(MaxFilterLength + 1, $"the filter is {filter.Length:N0} characters long; the limit is {MaxFilterLength:N0}.");
        }
        var parser = new Parser(new FilterTokenizer(filter, null));
        var expression = parser.ParseOr(0);
        var next = parser.Tokens.Peek();
        if (next.Kind != TokenKind.End)
        {
            throw new FilterSyntaxException(next.Position, next.Kind == TokenKind.RightParen
                ? "this ')' closes no '('."
                : $"expected 'and', 'or' or the end of the filter, but found {next.Describe()}.");
        }
        return expression;
    }

    /// <summary>One order-by entry, <c>&lt;operand&gt; [ASC|DESC]</c> (ASC when omitted).</summary>
    public static OrderTerm ParseOrderBy(string entry, int index = 0)
    {
        var field = $"orderBy[{index}]";
        if (entry.Length > 1_000) throw new FilterSyntaxException(1_001, "the entry is longer than 1,000 characters.", field);
        var tokens = new FilterTokenizer(entry, field);
        if (tokens.Peek().Kind == TokenKind.End) throw tokens.Error(1, "expected a column to order by, as in 'metrics.val_accuracy DESC'.");
        var operand = new Parser(tokens).ParseOperand();
        var descending = false;
        var next = tokens.Peek();
        if (next.IsWord("asc") || next.IsWord("desc"))
        {
            descending = next.IsWord("desc");
            tokens.Take();
            next = tokens.Peek();
        }
        if (next.Kind != TokenKind.End)
        {
            throw tokens.Error(next.Position, $"expected ASC, DESC or the end of the entry after {operand}, but found {next.Describe()}.");
        }
        return new OrderTerm(operand, descending);
    }

    private sealed class Parser(FilterTokenizer tokens)
    {
        public FilterTokenizer Tokens => tokens;

        public FilterExpression ParseOr(int depth)
        {
            var terms = new List<FilterExpression> { ParseAnd(depth) };
            while (tokens.Peek().IsWord("or"))
            {
                tokens.Take();
                terms.Add(ParseAnd(depth));
            }
            return terms.Count == 1 ? terms[0] : new OrExpression(terms);
        }

        private FilterExpression ParseAnd(int depth)
        {
            var terms = new List<FilterExpression> { ParseUnary(depth) };
            while (tokens.Peek().IsWord("and"))
            {
                tokens.Take();
                terms.Add(ParseUnary(depth));
            }
            return terms.Count == 1 ? terms[0] : new AndExpression(terms);
        }

        private FilterExpression ParseUnary(int depth)
        {
            var token = tokens.Peek();
            if (token.IsWord("not") || token.Kind == TokenKind.LeftParen)
            {
                if (depth >= MaxDepth) throw tokens.Error(token.Position, $"the filter nests deeper than {MaxDepth} levels of 'not' and parentheses.");
                tokens.Take();
                if (token.Kind != TokenKind.LeftParen) return new NotExpression(ParseUnary(depth + 1));

                var inner = ParseOr(depth + 1);
                var close = tokens.Take();
                if (close.Kind != TokenKind.RightParen)
                {
                    throw tokens.Error(close.Position, $"expected ')' to close the '(' at position {token.Position}, but found {close.Describe()}.");
                }
                return inner;
            }
            return ParsePredicate();
        }

        private FilterExpression ParsePredicate()
        {
            var operand = ParseOperand();
            var op = tokens.Take();
            if (op.Kind == TokenKind.Operator)
            {
                var value = ParseValue(op);
                var kind = op.Text switch
                {
                    "=" => PredicateOperator.Equal,
                    "!=" => PredicateOperator.NotEqual,
                    "<" => PredicateOperator.Less,
                    "<=" => PredicateOperator.LessOrEqual,
                    ">" => PredicateOperator.Greater,
                    _ => PredicateOperator.GreaterOrEqual,
                };
                return PredicateBinder.Bind(operand, kind, op, [value], tokens);
            }
            var negated = false;
            if (op.IsWord("not"))
            {
                negated = true;
                var after = tokens.Take();
                if (!after.IsWord("like") && !after.IsWord("in"))
                {
                    throw tokens.Error(after.Position, $"expected 'like' or 'in' after 'not', but found {after.Describe()}.");
                }
                op = after;
            }
            if (op.IsWord("like"))
            {
                var pattern = ParseValue(op);
                return PredicateBinder.Bind(operand, negated ? PredicateOperator.NotLike : PredicateOperator.Like, op, [pattern], tokens);
            }
            if (op.IsWord("in"))
            {
                var values = ParseList(op);
                return PredicateBinder.Bind(operand, negated ? PredicateOperator.NotIn : PredicateOperator.In, op, values, tokens);
            }
            if (op.IsWord("is"))
            {
                var next = tokens.Take();
                var isNot = next.IsWord("not");
                if (isNot) next = tokens.Take();
                if (!next.IsWord("null"))
                {
                    throw tokens.Error(next.Position, $"expected {(isNot ? "'null'" : "'null' or 'not null'")} after '{(isNot ? "is not" : "is")}', but found {next.Describe()}.");
                }
                return new Predicate(operand, isNot ? PredicateOperator.IsNotNull : PredicateOperator.IsNull, []);
            }
            throw tokens.Error(op.Position,
                $"expected an operator (=, !=, <, <=, >, >=, like, not like, in, not in, is null, is not null) after {operand}, but found {op.Describe()}.");
        }

        public Operand ParseOperand()
        {
            var previous = tokens.Last;
            var token = tokens.Take();
            switch (token.Kind)
            {
                case TokenKind.Field when token.FieldKind != OperandKind.Attribute:
                    return new Operand(token.FieldKind, token.Text, token.Position);
                case TokenKind.Field:
                case TokenKind.Word when !IsKeyword(token.Text):
                    var attribute = RunAttribute.Find(token.Text)
                        ?? throw tokens.Error(token.Position, $"unknown attribute '{token.Text}'. Attributes are {RunAttribute.Names}; other columns are metrics.<key>, params.<key> or tags.<key>.");
                    return new Operand(OperandKind.Attribute, attribute.Name, token.Position);
            }
            var after = previous is { } p ? $" after {p.Describe()}" : "";
            throw tokens.Error(token.Position,
                $"expected a column (metrics.<key>, params.<key>, tags.<key> or an attribute such as status){after}, but found {token.Describe()}.");
        }

        private static bool IsKeyword(string word) =>
            word.ToLowerInvariant() is "and" or "or" or "not" or "like" or "in" or "is" or "null" or "asc" or "desc";

        private Literal ParseValue(FilterToken after)
        {
            var token = tokens.Take();
            return token.Kind switch
            {
                TokenKind.Number => new Literal(token.Number, token.Position, token.Raw),
                TokenKind.String => new Literal(token.Text, token.Position, token.Raw),
                TokenKind.Word when !IsKeyword(token.Text) => throw tokens.Error(token.Position,
                    $"expected a value after '{after.Raw}', but found {token.Describe()}; quote text, as in '{token.Text}'."),
                _ => throw tokens.Error(token.Position, $"expected a value after '{after.Raw}', but found {token.Describe()}."),
            };
        }

        private List<Literal> ParseList(FilterToken inToken)
        {
            var open = tokens.Take();
            if (open.Kind != TokenKind.LeftParen)
            {
                throw tokens.Error(open.Position, $"expected '(' after '{inToken.Raw}', as in in ('a', 'b'), but found {open.Describe()}.");
            }
            if (tokens.Peek().Kind == TokenKind.RightParen)
            {
                throw tokens.Error(tokens.Peek().Position, $"the list after '{inToken.Raw}' is empty; it needs at least one value.");
            }
            var values = new List<Literal> { ParseValue(open) };
            while (true)
            {
                var next = tokens.Take();
                if (next.Kind == TokenKind.RightParen) return values;
                if (next.Kind != TokenKind.Comma)
                {
                    throw tokens.Error(next.Position, $"expected ',' or ')' in the list that starts at position {open.Position}, but found {next.Describe()}.");
                }
                values.Add(ParseValue(next));
            }
        }
    }
}

/// <summary>A literal as written: a double or a string, and where it is.</summary>
internal readonly record struct Literal(object Value, int Position, string Raw);
