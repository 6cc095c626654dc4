namespace ModelOps.Engine.Data;

/// <summary>The dataset's files cannot be used for training; the message says what is wrong and where.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string message) : base(message) { }
    public DatasetFormatException(string message, Exception inner) : base(message, inner) { }
}
