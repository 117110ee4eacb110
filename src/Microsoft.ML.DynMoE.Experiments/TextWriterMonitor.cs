
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Writes AutoML-style log lines (<c>Update Completed Trial - Id: N - Metric: M - Pipeline: P - Duration: ms</c>).</summary>
    public sealed class TextWriterMonitor : IMonitor
    {
        private readonly System.IO.TextWriter _writer;

        /// <summary>Creates a monitor writing to <paramref name="writer"/>.</summary>
        public TextWriterMonitor(System.IO.TextWriter writer) => _writer = writer ?? throw new ArgumentNullException(nameof(writer));

        /// <inheritdoc/>
        public void ReportRunningTrial(TrialSettings settings)
            => _writer.WriteLine($"Update Running Trial - Id: {settings.TrialId} - Pipeline: {settings.Candidate.Name}");

        /// <inheritdoc/>
        public void ReportCompletedTrial(TrialResult result)
            => _writer.WriteLine(FormattableString.Invariant($"Update Completed Trial - Id: {result.TrialSettings.TrialId} - Metric: {result.Metric:F4} - Pipeline: {result.Name} - Duration: {result.DurationInMilliseconds:F0}"));

        /// <inheritdoc/>
        public void ReportBestTrial(TrialResult result)
            => _writer.WriteLine(FormattableString.Invariant($"Update Best Trial - Id: {result.TrialSettings.TrialId} - Metric: {result.Metric:F4} - Pipeline: {result.Name}"));

        /// <inheritdoc/>
        public void ReportFailTrial(TrialSettings settings, Exception? exception = null)
            => _writer.WriteLine($"Update Failed Trial - Id: {settings.TrialId} - Pipeline: {settings.Candidate.Name} - Error: {exception?.Message}");
    }
}
