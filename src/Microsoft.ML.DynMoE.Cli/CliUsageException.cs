
namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>Bad arguments or unreadable data: the CLI prints the message and exits with code 2.</summary>
    public sealed class CliUsageException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public CliUsageException(string message) : base(message) { }
    }
}
