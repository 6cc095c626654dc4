namespace ModelOps.Portal.Tracking.Query;

/// <summary>
/// A page token that is malformed or was issued for a different query (a 400 at the API). No parameter
/// name is passed to the base class, so <see cref="Exception.Message"/> stays a plain sentence.
/// </summary>
public sealed class InvalidPageTokenException(string message) : ArgumentException(message)
{
    public const string ForeignQuery = "The page token belongs to a different query.";
    public const string Malformed = "The page token is not valid.";
}
