using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments.Benchmark;
using Microsoft.ML.DynMoE.Internal;

namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>Trains and evaluates one candidate on every fold.</summary>
    internal static class TrialRunner
    {
        internal static TrialResult Run(TrialSettings settings, ExperimentTask task, IReadOnlyList<(IDataView Train, IDataView Test)> folds,
            Func<MLContext, IEstimator<ITransformer>>? featurizer, DynMoEExperimentSettings experimentSettings, int seed, string metricName,
            bool isMaximize, Func<MLContext, IDataView, string, double> evaluate, CancellationToken ct)
        {
            var result = new TrialResult(settings, metricName);
            var total = Stopwatch.StartNew();
            using var memory = new PeakMemorySampler();
            var metrics = new List<double>();
            var signatures = new List<string>();
            var finalExperts = new List<double>();
            var activated = new List<double>();
            double fitSeconds = 0, scoreSeconds = 0;
            long scoredRows = 0;
            string label = experimentSettings.LabelColumnName;
            try
            {
                for (int f = 0; f < folds.Count; f++)
                {
                    ct.ThrowIfCancellationRequested();
                    var (train, test) = folds[f];
                    signatures.Add(FoldSignature(test, label));

                    // Fresh context and freshly built pipeline per fold: no fitted state (e.g. a DynMoE expert count) is shared.
                    var ml = new MLContext(seed);
                    using var reg = ct.Register(() => MLContextInternals.CancelExecution(ml));
                    var ctx = new CandidateBuildContext(ml, task, experimentSettings, seed, ct);
                    var trainer = settings.Candidate.CreateTrainer(ctx);
                    IEstimator<ITransformer> pipeline = featurizer != null ? featurizer(ml).Append(trainer) : trainer;

                    var sw = Stopwatch.StartNew();
                    var model = pipeline.Fit(train);
                    fitSeconds += sw.Elapsed.TotalSeconds;

                    // Score once untimed, then time a second pass: rows/s is the steady-state rate, not the cost of
                    // the first model of a family in this process (tier-0 JIT code, lazily filled caches).
                    TouchScores(model.Transform(test));
                    sw.Restart();
                    var scored = model.Transform(test);
                    scoredRows += TouchScores(scored);
                    scoreSeconds += sw.Elapsed.TotalSeconds;

                    metrics.Add(evaluate(ml, model.Transform(test), label));
                    result.Model = model;

                    var routing = FittedPipeline.ReadRouting(model);
                    if (routing != null)
                    {
                        finalExperts.Add(routing.FinalExperts);
                        activated.Add(routing.ActivatedPerToken);
                        if (f == 0)
                            result.ExpertCountHistory = routing.History;
                    }
                }

                result.Status = TrialStatus.Succeeded;
                result.FoldMetrics = metrics;
                (result.Metric, result.MetricStd) = BenchmarkStatistics.MeanStd(metrics);
                result.Loss = double.IsNaN(result.Metric) ? double.MaxValue : (isMaximize ? -result.Metric : result.Metric);
                result.TrainingSeconds = fitSeconds / folds.Count;
                result.ScoringRowsPerSecond = scoreSeconds > 0 ? scoredRows / scoreSeconds : null;
                if (finalExperts.Count > 0)
                {
                    result.FinalExperts = finalExperts.Average();
                    result.ActivatedExpertsPerToken = activated.Average();
                }
                else if (settings.Candidate.Family == CandidateFamily.Dense)
                {
                    result.FinalExperts = 1;
                    result.ActivatedExpertsPerToken = 1;
                }
                else if (settings.Candidate.Family == CandidateFamily.TopK)
                {
                    result.FinalExperts = settings.Candidate.Experts;
                    result.ActivatedExpertsPerToken = settings.Candidate.K;
                }
            }
            catch (Exception ex)
            {
                result.Status = TrialStatus.Failed;
                result.Exception = ex;
                result.Error = ex is AggregateException ag && ag.InnerException != null ? ag.InnerException.Message : ex.Message;
                result.FoldMetrics = metrics;
                result.Loss = double.MaxValue;
                result.TrainingSeconds = folds.Count > 0 ? fitSeconds / folds.Count : 0;
            }
            result.FoldSignatures = signatures;
            result.PeakMemoryInMegaByte = memory.PeakMegaBytes;
            result.DurationInMilliseconds = total.Elapsed.TotalMilliseconds;
            return result;
        }

        /// <summary>Reads the Score column of every row (the work a consumer of predictions pays).</summary>
        internal static long TouchScores(IDataView scored)
        {
            var col = scored.Schema.GetColumnOrNull("Score") ?? scored.Schema[scored.Schema.Count - 1];
            long n = 0;
            using var cursor = scored.GetRowCursor(new[] { col });
            if (col.Type is VectorDataViewType)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(col);
                VBuffer<float> v = default;
                while (cursor.MoveNext()) { getter(ref v); n++; }
            }
            else if (col.Type.RawType == typeof(float))
            {
                var getter = cursor.GetGetter<float>(col);
                float v = 0;
                while (cursor.MoveNext()) { getter(ref v); n++; }
            }
            else
            {
                while (cursor.MoveNext()) n++;
            }
            return n;
        }

        /// <summary>Row count plus an order-sensitive hash of the label values of a fold's held-out rows.</summary>
        internal static string FoldSignature(IDataView data, string labelColumn)
        {
            var column = data.Schema.GetColumnOrNull(labelColumn);
            if (column == null)
                return CountRows(data).ToString(CultureInfo.InvariantCulture);
            // FNV-1a over each label's text, with a separator byte after each label.
            ulong hash = 14695981039346656037UL;
            var labels = LabelText.Read(data, column.Value);
            if (labels == null)
                return CountRows(data).ToString(CultureInfo.InvariantCulture) + ":" + hash.ToString("x16", CultureInfo.InvariantCulture);
            foreach (string label in labels)
            {
                foreach (char ch in label) { hash ^= ch; hash *= 1099511628211UL; }
                hash ^= 0xFF; hash *= 1099511628211UL;
            }
            return labels.Count.ToString(CultureInfo.InvariantCulture) + ":" + hash.ToString("x16", CultureInfo.InvariantCulture);
        }

        private static long CountRows(IDataView data)
        {
            long n = 0;
            using var cursor = data.GetRowCursor(Array.Empty<DataViewSchema.Column>());
            while (cursor.MoveNext())
                n++;
            return n;
        }
    }
}
