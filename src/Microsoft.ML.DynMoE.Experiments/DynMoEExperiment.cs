using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments.Internal;
using Microsoft.ML.DynMoE.Internal;

namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>
    /// Compares DynMoE with fixed top-k MoE, a dense network and ML.NET trainers on identical folds, shaped like AutoML's
    /// <c>AutoMLExperiment</c>. Folds are assigned once from the seed and shared by every candidate; each candidate's pipeline
    /// (featurizer + trainer) is rebuilt and refit for every fold. When the time budget is used, no new trial starts;
    /// the running trial is allowed to finish. Cancellation stops the running trial and returns the completed ones.
    /// </summary>
    public sealed class DynMoEExperiment
    {
        private readonly MLContext _mlContext;
        private readonly DynMoEExperimentSettings _settings;
        private readonly List<ExperimentCandidate> _candidates;
        private ITuner _tuner = new GridSearchTuner();
        private IMonitor? _monitor;
        private Func<MLContext, IEstimator<ITransformer>>? _featurizer;
        private ExperimentTask? _task;
        private string _metricName = "";
        private bool _isMaximize = true;
        private Func<MLContext, IDataView, string, double>? _evaluate;
        private IDataView? _data, _train, _validation;
        private int _folds = 5;
        private string? _samplingKey;

        internal DynMoEExperiment(MLContext mlContext, DynMoEExperimentSettings settings)
        {
            _mlContext = mlContext;
            _settings = settings;
            _candidates = new List<ExperimentCandidate>(ExperimentCandidate.CreateDefaults(settings));
        }

        /// <summary>The candidates that will be tried, in order.</summary>
        public IReadOnlyList<ExperimentCandidate> Candidates => _candidates;

        /// <summary>Settings of this experiment.</summary>
        public DynMoEExperimentSettings Settings => _settings;

        /// <summary>Cross-validation on <paramref name="data"/> with <paramref name="fold"/> folds (assigned once from the seed).</summary>
        public DynMoEExperiment SetDataset(IDataView data, int fold = 5, string? samplingKeyColumnName = null)
        {
            if (fold < 2)
                throw new ArgumentOutOfRangeException(nameof(fold), $"Cross-validation needs at least 2 folds; got {fold}. Use SetDataset(train, validation) for a single split.");
            _data = data ?? throw new ArgumentNullException(nameof(data));
            _folds = fold;
            _samplingKey = samplingKeyColumnName;
            _train = _validation = null;
            return this;
        }

        /// <summary>A single train/validation split.</summary>
        public DynMoEExperiment SetDataset(IDataView train, IDataView validation)
        {
            _train = train ?? throw new ArgumentNullException(nameof(train));
            _validation = validation ?? throw new ArgumentNullException(nameof(validation));
            _data = null;
            return this;
        }

        /// <summary>Multiclass task optimizing <paramref name="metric"/> (default macro-accuracy).</summary>
        public DynMoEExperiment SetMulticlassClassificationMetric(MulticlassClassificationMetric metric = MulticlassClassificationMetric.MacroAccuracy, string? labelColumn = null)
            => SetTask(ExperimentTask.MulticlassClassification, metric.ToString(), metric != MulticlassClassificationMetric.LogLoss, labelColumn,
                (ml, scored, label) => MetricValue.Of(ml, scored, label, metric));

        /// <summary>Binary task (Boolean label) optimizing <paramref name="metric"/> (default AUC).</summary>
        public DynMoEExperiment SetBinaryClassificationMetric(BinaryClassificationMetric metric = BinaryClassificationMetric.AreaUnderRocCurve, string? labelColumn = null)
            => SetTask(ExperimentTask.BinaryClassification, metric.ToString(), isMaximize: true, labelColumn,
                (ml, scored, label) => MetricValue.Of(ml, scored, label, metric));

        /// <summary>Regression task optimizing <paramref name="metric"/> (default R²).</summary>
        public DynMoEExperiment SetRegressionMetric(RegressionMetric metric = RegressionMetric.RSquared, string? labelColumn = null)
            => SetTask(ExperimentTask.Regression, metric.ToString(), metric == RegressionMetric.RSquared, labelColumn,
                (ml, scored, label) => MetricValue.Of(ml, scored, label, metric));

        private DynMoEExperiment SetTask(ExperimentTask task, string metricName, bool isMaximize, string? labelColumn, Func<MLContext, IDataView, string, double> evaluate)
        {
            if (labelColumn != null)
                _settings.LabelColumnName = labelColumn;
            _task = task;
            _metricName = metricName;
            _isMaximize = isMaximize;
            _evaluate = evaluate;
            return this;
        }

        /// <summary>Time budget: no new trial starts after <paramref name="seconds"/>; a running trial finishes.</summary>
        public DynMoEExperiment SetTrainingTimeInSeconds(uint seconds)
        {
            _settings.MaxExperimentTimeInSeconds = seconds;
            return this;
        }

        /// <summary>Maximum number of trials.</summary>
        public DynMoEExperiment SetMaxModelToExplore(int maxModels)
        {
            if (maxModels < 1)
                throw new ArgumentOutOfRangeException(nameof(maxModels), "SetMaxModelToExplore needs at least 1 model.");
            _settings.MaxModels = maxModels;
            return this;
        }

        /// <summary>Uses <paramref name="tuner"/> to order the candidates (default <see cref="GridSearchTuner"/>).</summary>
        public DynMoEExperiment SetTuner(ITuner tuner)
        {
            _tuner = tuner ?? throw new ArgumentNullException(nameof(tuner));
            return this;
        }

        /// <summary>Tries candidates in the order added (the default).</summary>
        public DynMoEExperiment SetGridSearchTuner() => SetTuner(new GridSearchTuner());

        /// <summary>Tries candidates in a seeded random order.</summary>
        public DynMoEExperiment SetRandomSearchTuner(int? seed = null) => SetTuner(new RandomSearchTuner(seed ?? EffectiveSeed));

        /// <summary>The settings' seed, else the MLContext's (ML.NET's convention), else 0.</summary>
        private int EffectiveSeed => _settings.Seed ?? MLContextInternals.Seed(_mlContext) ?? 0;

        /// <summary>Tries the cheapest candidates first.</summary>
        public DynMoEExperiment SetCostFrugalTuner() => SetTuner(new CostFrugalTuner());

        /// <summary>Reports trial progress to <paramref name="monitor"/>.</summary>
        public DynMoEExperiment SetMonitor(IMonitor monitor)
        {
            _monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));
            return this;
        }

        /// <summary>Featurization run before every trainer. The factory is called for every fold, so nothing fitted is shared.
        /// It must produce <see cref="DynMoEExperimentSettings.FeatureColumnName"/> as a known-size Single vector.</summary>
        public DynMoEExperiment SetFeaturizer(Func<MLContext, IEstimator<ITransformer>> featurizerFactory)
        {
            _featurizer = featurizerFactory ?? throw new ArgumentNullException(nameof(featurizerFactory));
            return this;
        }

        /// <summary>Featurization run before every trainer (refit for every fold).</summary>
        public DynMoEExperiment SetFeaturizer(IEstimator<ITransformer> featurizer)
        {
            if (featurizer == null)
                throw new ArgumentNullException(nameof(featurizer));
            _featurizer = _ => featurizer;
            return this;
        }

        /// <summary>Epoch budget shared by every neural candidate.</summary>
        public DynMoEExperiment SetNumberOfEpochs(int epochs)
        {
            if (epochs < 1)
                throw new ArgumentOutOfRangeException(nameof(epochs), "The epoch budget must be at least 1.");
            _settings.NumberOfEpochs = epochs;
            return this;
        }

        /// <summary>Adds a candidate (names must be unique).</summary>
        public DynMoEExperiment AddCandidate(ExperimentCandidate candidate)
        {
            if (candidate == null)
                throw new ArgumentNullException(nameof(candidate));
            if (_candidates.Any(c => c.Name == candidate.Name))
                throw new ArgumentException($"A candidate named '{candidate.Name}' already exists; remove it first or pick another name.", nameof(candidate));
            _candidates.Add(candidate);
            return this;
        }

        /// <summary>Removes the candidate named <paramref name="name"/> (no-op when absent).</summary>
        public DynMoEExperiment RemoveCandidate(string name)
        {
            _candidates.RemoveAll(c => c.Name == name);
            return this;
        }

        /// <summary>Removes every candidate of <paramref name="family"/>.</summary>
        public DynMoEExperiment RemoveCandidates(CandidateFamily family)
        {
            _candidates.RemoveAll(c => c.Family == family);
            return this;
        }

        /// <summary>Removes every candidate.</summary>
        public DynMoEExperiment ClearCandidates()
        {
            _candidates.Clear();
            return this;
        }

        /// <summary>Runs the experiment synchronously.</summary>
        public DynMoEExperimentResult Run() => RunAsync().GetAwaiter().GetResult();

        /// <summary>Runs the experiment. Returns the best trial and every trial; on cancellation returns the trials completed so far
        /// (<see cref="DynMoEExperimentResult.IsCancelled"/>). Failed trials are reported and the run continues.</summary>
        public async Task<DynMoEExperimentResult> RunAsync(CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _settings.CancellationToken);
            var ct = linked.Token;
            var clock = Stopwatch.StartNew();
            int seed = EffectiveSeed;
            string label = _settings.LabelColumnName;

            IDataView schemaSource = _data ?? _train ?? throw new InvalidOperationException("Call SetDataset(data, folds) or SetDataset(train, validation) before RunAsync.");
            var labelCol = schemaSource.Schema.GetColumnOrNull(label)
                ?? throw new ArgumentException($"The label column '{label}' is not in the data. Columns: {string.Join(", ", schemaSource.Schema.Select(c => c.Name))}. Set DynMoEExperimentSettings.LabelColumnName or pass labelColumn to the metric setter.");
            if (_evaluate == null)
            {
                var lt = labelCol.Type;
                if (lt is BooleanDataViewType) SetBinaryClassificationMetric();
                else if (lt is NumberDataViewType && lt.RawType == typeof(float)) SetRegressionMetric();
                else SetMulticlassClassificationMetric();
            }
            var task = _task!.Value;
            if (_candidates.Count == 0)
                throw new InvalidOperationException("The experiment has no candidates; AddCandidate at least one.");
            ValidateLabel(task, labelCol);

            // Label preparation is fitted once on all data so every fold and candidate sees the same key mapping.
            ITransformer? labelPrep = null;
            if (task == ExperimentTask.MulticlassClassification && labelCol.Type is not KeyDataViewType)
                labelPrep = _mlContext.Transforms.Conversion.MapValueToKey(label).Fit(_data ?? _train!);

            var folds = new List<(IDataView Train, IDataView Test)>();
            if (_data != null)
            {
                var prepared = labelPrep?.Transform(_data) ?? _data;
                foreach (var split in _mlContext.Data.CrossValidationSplit(prepared, _folds, _samplingKey, seed))
                    folds.Add((split.TrainSet, split.TestSet));
            }
            else
            {
                folds.Add((labelPrep?.Transform(_train!) ?? _train!, labelPrep?.Transform(_validation!) ?? _validation!));
            }

            var result = new DynMoEExperimentResult { Task = task, MetricName = _metricName, IsMaximize = _isMaximize, NumberOfFolds = folds.Count };
            var trials = new List<TrialResult>();
            var remaining = new List<ExperimentCandidate>(_candidates);
            TrialResult? best = null;
            int trialId = 0;
            var budget = TimeSpan.FromSeconds(_settings.MaxExperimentTimeInSeconds);

            // The warm-up pays one-time costs (JIT, native loading) so the first trial's timings are not inflated; it is not a
            // trial, so it is skipped when no trial may run and its time is not charged to the budget.
            var warmUpTime = TimeSpan.Zero;
            if (_settings.WarmUp && budget > TimeSpan.Zero && _settings.MaxModels > 0 && !ct.IsCancellationRequested)
            {
                var warmUpClock = Stopwatch.StartNew();
                await Task.Run(() => WarmUp(remaining, task, folds[0].Train, folds[0].Test, seed, ct)).ConfigureAwait(false);
                warmUpTime = warmUpClock.Elapsed;
            }

            while (remaining.Count > 0)
            {
                if (ct.IsCancellationRequested) { result.IsCancelled = true; break; }
                if (trialId >= _settings.MaxModels) break;
                if (clock.Elapsed - warmUpTime >= budget) { result.TimeBudgetExhausted = true; break; }

                var candidate = _tuner.Propose(trialId, remaining);
                if (candidate == null) break;
                remaining.Remove(candidate);
                var settings = new TrialSettings(trialId++, candidate);
                _monitor?.ReportRunningTrial(settings);

                var trial = await Task.Run(() => TrialRunner.Run(settings, task, folds, _featurizer, _settings, seed, _metricName, _isMaximize, _evaluate!, ct)).ConfigureAwait(false);
                settings.EndedAtUtc = DateTime.UtcNow;
                if (ct.IsCancellationRequested)
                {
                    result.IsCancelled = true;
                    remaining.Insert(0, candidate);
                    break;
                }
                trials.Add(trial);
                if (trial.Status == TrialStatus.Failed)
                {
                    _monitor?.ReportFailTrial(settings, trial.Exception);
                    _tuner.Update(trial);
                    continue;
                }
                _monitor?.ReportCompletedTrial(trial);
                _tuner.Update(trial);
                if (best == null || trial.Loss < best.Loss)
                {
                    best = trial;
                    _monitor?.ReportBestTrial(trial);
                }
            }

            result.Trials = trials;
            result.BestTrial = best;
            result.SkippedCandidates = remaining.Select(c => c.Name).ToArray();
            if (best != null)
            {
                ITransformer? foldModel = best.Model;
                if (foldModel != null && labelPrep != null)
                {
                    var withLabels = new TransformerChain<ITransformer>(labelPrep, foldModel);
                    var toValue = _mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(withLabels.Transform(_data ?? _train!));
                    foldModel = new TransformerChain<ITransformer>(labelPrep, best.Model!, toValue);
                }
                if (_settings.RefitBestModel && !result.IsCancelled)
                {
                    try
                    {
                        result.BestModel = await Task.Run(() => FitFull(best.TrialSettings.Candidate, task, seed, ct)).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        result.IsCancelled = true;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // Keep the results: fall back to the best trial's last-fold model and say why.
                        result.RefitError = ex.Message;
                    }
                }
                result.BestModel ??= foldModel;
            }
            result.Elapsed = clock.Elapsed;
            return result;
        }

        /// <summary>The full pipeline for a candidate: featurizer, label mapping, trainer and (multiclass) MapKeyToValue.</summary>
        internal IEstimator<ITransformer> BuildFullPipeline(ExperimentCandidate candidate, MLContext ml, ExperimentTask task, int seed, CancellationToken ct, DataViewSchema inputSchema)
        {
            var ctx = new CandidateBuildContext(ml, task, _settings, seed, ct);
            IEstimator<ITransformer> est = _featurizer?.Invoke(ml) ?? new EstimatorChain<ITransformer>();
            bool keyLabel = inputSchema[_settings.LabelColumnName].Type is KeyDataViewType;
            if (task == ExperimentTask.MulticlassClassification && !keyLabel)
                est = est.Append(ml.Transforms.Conversion.MapValueToKey(_settings.LabelColumnName));
            est = est.Append(candidate.CreateTrainer(ctx));
            if (task == ExperimentTask.MulticlassClassification)
                est = est.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
            return est;
        }

        private void WarmUp(IReadOnlyList<ExperimentCandidate> candidates, ExperimentTask task, IDataView train, IDataView test, int seed, CancellationToken ct)
        {
            var neural = candidates.FirstOrDefault(c => c.Family is CandidateFamily.DynMoE or CandidateFamily.TopK or CandidateFamily.Dense);
            if (neural == null)
                return;
            var settings = _settings.Clone();
            settings.NumberOfEpochs = 1;
            try
            {
                var ml = new MLContext(seed);
                var trainer = neural.CreateTrainer(new CandidateBuildContext(ml, task, settings, seed, ct));
                var model = (_featurizer != null ? _featurizer(ml).Append(trainer) : trainer).Fit(train);
                // Score the first test fold too, so the first trial's scoring throughput includes neither JIT
                // compilation nor filling a lazily cached test view.
                TrialRunner.TouchScores(model.Transform(test));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The real trial reports any problem; the warm-up only pays one-time costs.
            }
        }

        private ITransformer FitFull(ExperimentCandidate candidate, ExperimentTask task, int seed, CancellationToken ct)
        {
            var ml = new MLContext(seed);
            using var reg = ct.Register(() => MLContextInternals.CancelExecution(ml));
            var data = _data ?? _train!;
            return BuildFullPipeline(candidate, ml, task, seed, ct, data.Schema).Fit(data);
        }

        private void ValidateLabel(ExperimentTask task, DataViewSchema.Column labelCol)
        {
            var t = labelCol.Type;
            if (task == ExperimentTask.BinaryClassification && t is not BooleanDataViewType)
                throw new ArgumentException($"Binary classification needs a Boolean label, but column '{labelCol.Name}' is {t}. Convert it (e.g. MapValue to bool) or use SetMulticlassClassificationMetric.");
            if (task == ExperimentTask.Regression && !(t is NumberDataViewType && t.RawType == typeof(float)))
                throw new ArgumentException($"Regression needs a Single (float) label, but column '{labelCol.Name}' is {t}. Load it as float or add ConvertType to the featurizer.");
        }
    }
}
