using System.Diagnostics;
using Microsoft.ML.DynMoE.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// The TorchSharp training loop shared by every DynMoE trainer (tabular MLP, text and image encoders): AdamW with
/// linear warm-up and cosine decay, task loss plus the MoE layers' weighted auxiliary losses, the expert adaptation
/// schedule around each step, optional early stopping on a validation set (restoring the best weights), and a final
/// eval pass that measures routing on the training data. Initial weights come from a generator of the run's own seed,
/// so concurrent trainings in one process do not share random state.
/// </summary>
internal static class MoENetworkTrainer
{
    /// <summary>Trains the network <paramref name="createNetwork"/> builds and returns it compiled by <paramref name="compile"/>.</summary>
    public static TrainedNetwork<TCompiled> Train<TCompiled>(NetworkTrainingSettings settings, Func<Generator, MoENetwork> createNetwork,
        Func<MoENetwork, TCompiled> compile, ITrainingBatchSource train, ITrainingBatchSource? validation)
    {
        // libtorch's OpenMP build keeps the thread count per calling thread (omp_set_num_threads), so setting and
        // restoring it here, on the thread that trains, leaves Fits on other threads untouched (tested).
        NativeReproducibility.Ensure();
        NativeHeap.Bound();
        int previousThreads = torch.get_num_threads();
        torch.set_num_threads(settings.Threads);
        try
        {
            return TrainCore(settings, createNetwork, compile, train, validation);
        }
        finally
        {
            torch.set_num_threads(previousThreads);
        }
    }

    /// <summary>Learning rate of step <paramref name="step"/>: linear warm-up over the first steps, then cosine decay to 5% of the peak.</summary>
    internal static double LearningRateAt(long step, long totalSteps, long warmupSteps, double peak)
    {
        if (step < warmupSteps)
            return peak * (step + 1) / warmupSteps;
        double minimum = peak * 0.05;
        long decaySteps = Math.Max(1, totalSteps - warmupSteps);
        double progress = Math.Min(1.0, (double)(step - warmupSteps) / decaySteps);
        return minimum + (peak - minimum) * (1 + Math.Cos(Math.PI * progress)) / 2;
    }

    private static TrainedNetwork<TCompiled> TrainCore<TCompiled>(NetworkTrainingSettings settings, Func<Generator, MoENetwork> createNetwork,
        Func<MoENetwork, TCompiled> compile, ITrainingBatchSource train, ITrainingBatchSource? validation)
    {
        var shuffle = new Random(settings.Seed);
        var stopwatch = Stopwatch.StartNew();

        MoENetwork network;
        using (var generator = new Generator(unchecked((ulong)settings.Seed), torch.CPU))
            network = createNetwork(generator);
        using var owned = network;
        network.to(settings.Device);
        var layers = network.MoELayers;
        var history = layers.Select(l => new List<int>()).ToArray();

        int stepsPerEpoch = (int)Math.Max(1, (train.RowCount + settings.BatchSize - 1) / settings.BatchSize);
        long totalSteps = (long)stepsPerEpoch * settings.Epochs;
        long warmupSteps = (long)Math.Round(totalSteps * settings.WarmupFraction);
        var parameters = network.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = CreateOptimizer(network, parameters, settings, out var slotGroups);

        Dictionary<string, Tensor>? bestState = null;
        double bestValidationLoss = double.PositiveInfinity;
        int epochsWithoutImprovement = 0, epochsRun = 0;
        double lastTrainingLoss = double.NaN;
        long globalStep = 0;

        try
        {
            for (int epoch = 0; epoch < settings.Epochs; epoch++)
            {
                network.train();
                foreach (var layer in layers)
                    layer.ResetRoutingStatistics();

                double lossSum = 0, weightSum = 0;
                int stepInEpoch = 0;
                foreach (var batch in train.GetBatches(settings.BatchSize, shuffle))
                {
                    settings.CancellationToken.ThrowIfCancellationRequested();
                    settings.CheckAlive?.Invoke();

                    using var scope = NewDisposeScope();
                    optimizer.LearningRate = LearningRateAt(globalStep, totalSteps, warmupSteps, settings.LearningRate);
                    settings.Adaptation.BeforeStep(layers, stepInEpoch, stepsPerEpoch, globalStep);
                    var (x, y, w) = ToTensors(batch, settings.Objective, settings.Device);
                    var logits = network.forward(x);
                    var taskLoss = WeightedLoss(logits, y, w, settings.Objective);
                    var loss = network.AuxiliaryLoss is Tensor aux ? TensorNumberOps.AddTensors(taskLoss, aux) : taskLoss;

                    optimizer.ZeroGrad();
                    loss.backward();
                    if (settings.GradientClipNorm > 0)
                        nn.utils.clip_grad_norm_(parameters, settings.GradientClipNorm);
                    optimizer.Step();
                    var adaptations = settings.Adaptation.AfterStep(layers, stepInEpoch, stepsPerEpoch, globalStep);
                    OnExpertsAdded(optimizer, slotGroups, adaptations, settings);

                    double batchWeight = w.sum().item<float>();
                    lossSum += taskLoss.item<float>() * batchWeight;
                    weightSum += batchWeight;
                    stepInEpoch++;
                    globalStep++;
                }

                epochsRun = epoch + 1;
                lastTrainingLoss = weightSum > 0 ? lossSum / weightSum : double.NaN;
                for (int i = 0; i < layers.Count; i++)
                    history[i].Add(layers[i].ActiveExpertCount);
                double activatedPerToken = layers.Count == 0 ? 0 : layers.Average(l => l.RoutingStatistics.MeanActivatedExpertsPerToken);

                double? validationLoss = null, validationMetric = null;
                if (validation is not null)
                {
                    (validationLoss, validationMetric) = Evaluate(network, validation, settings);
                    // Only early stopping picks weights by validation loss; otherwise validation is reported, never used.
                    // A non-finite loss (a diverged network) is no improvement: early stopping then ends the run and
                    // restores the best finite epoch instead of training on silently.
                    if (settings.EarlyStoppingPatience > 0)
                    {
                        if (double.IsFinite(validationLoss.Value) && validationLoss < bestValidationLoss - 1e-7)
                        {
                            bestValidationLoss = validationLoss.Value;
                            epochsWithoutImprovement = 0;
                            DisposeState(bestState);
                            bestState = Snapshot(network);
                        }
                        else
                        {
                            epochsWithoutImprovement++;
                        }
                    }
                }

                settings.OnEpoch?.Invoke(new DynMoETrainingProgress
                {
                    Epoch = epoch + 1,
                    NumberOfEpochs = settings.Epochs,
                    Step = globalStep,
                    TrainingLoss = lastTrainingLoss,
                    ValidationLoss = validationLoss,
                    ValidationMetric = validationMetric,
                    ActiveExperts = layers.Select(l => l.ActiveExpertCount).ToArray(),
                    ActivatedExpertsPerToken = activatedPerToken,
                    Elapsed = stopwatch.Elapsed,
                });

                if (settings.EarlyStoppingPatience > 0 && epochsWithoutImprovement >= settings.EarlyStoppingPatience)
                    break;
            }

            if (bestState is not null)
            {
                network.load_state_dict(bestState);
                for (int i = 0; i < layers.Count; i++)
                    history[i].Add(layers[i].ActiveExpertCount);
            }

            var routing = MeasureRouting(network, train, settings, history);
            return new TrainedNetwork<TCompiled>
            {
                Network = compile(network),
                Routing = routing,
                EpochsRun = epochsRun,
                FinalTrainingLoss = lastTrainingLoss,
            };
        }
        finally
        {
            DisposeState(bestState);
        }
    }

    /// <summary>
    /// AdamW over the network's parameters, the top-any gates' embeddings and thresholds in their own group (learning-rate
    /// multiplier), the parameters loaded from a pretrained checkpoint in another (their own multiplier), and every top-any layer's expert slots registered so an added expert's optimizer state can be reset or warmed up.
    /// </summary>
    private static MoEAdamW CreateOptimizer(MoENetwork network, Parameter[] parameters, NetworkTrainingSettings settings, out int[] slotGroups)
    {
        var topAny = network.MoELayers.Where(l => l.TopAnyGate is not null).ToArray();
        var gateHandles = new HashSet<IntPtr>(topAny.SelectMany(l => new[] { l.TopAnyGate!.GateEmbeddings.Handle, l.TopAnyGate.Thresholds.Handle }));
        var gate = parameters.Where(p => gateHandles.Contains(p.Handle)).ToArray();
        var pretrainedHandles = new HashSet<IntPtr>(network.PretrainedParameters.Select(p => p.Handle));
        pretrainedHandles.ExceptWith(gateHandles);
        var pretrained = parameters.Where(p => pretrainedHandles.Contains(p.Handle)).ToArray();
        var rest = parameters.Where(p => !gateHandles.Contains(p.Handle) && !pretrainedHandles.Contains(p.Handle)).ToArray();
        var optimizer = new MoEAdamW(new[]
        {
            ((IEnumerable<Parameter>)rest, 1.0), (gate, settings.GateLearningRateMultiplier), (pretrained, settings.PretrainedLearningRateMultiplier),
        }, settings.LearningRate, settings.WeightDecay);
        slotGroups = new int[topAny.Length];
        if (settings.ResetNewExpertOptimizerState || settings.NewExpertWarmupSteps > 0)
        {
            for (int i = 0; i < topAny.Length; i++)
            {
                var l = topAny[i];
                slotGroups[i] = optimizer.RegisterSlots(l.Options.SlotCount, new (Tensor, int)[]
                {
                    (l.Experts.Weight1, 0), (l.Experts.Bias1, 0), (l.Experts.Weight2, 0), (l.Experts.Bias2, 0),
                    (l.TopAnyGate!.GateEmbeddings, 1), (l.TopAnyGate.Thresholds, 0),
                });
            }
        }
        return optimizer;
    }

    /// <summary>Resets or warms up the optimizer state of experts that adaptation just added (reports come in top-any layer order).</summary>
    private static void OnExpertsAdded(MoEAdamW optimizer, int[] slotGroups, IReadOnlyList<ExpertAdaptation> adaptations, NetworkTrainingSettings settings)
    {
        if (!settings.ResetNewExpertOptimizerState && settings.NewExpertWarmupSteps <= 0)
            return;
        for (int i = 0; i < adaptations.Count && i < slotGroups.Length; i++)
        {
            if (adaptations[i].AddedSlot is not int slot)
                continue;
            if (settings.ResetNewExpertOptimizerState)
                optimizer.ResetSlot(slotGroups[i], slot);
            if (settings.NewExpertWarmupSteps > 0)
                optimizer.StartWarmup(slotGroups[i], slot, settings.NewExpertWarmupSteps);
        }
    }

    private static (Tensor X, Tensor Y, Tensor W) ToTensors(TrainingBatch batch, TrainingObjective objective, Device device)
    {
        int rows = batch.Rows;
        var x = torch.tensor(batch.Features.AsSpan(0, rows * batch.FeatureCount).ToArray(), new long[] { rows, batch.FeatureCount }).to(device);
        var labels = torch.tensor(batch.Labels.AsSpan(0, rows).ToArray(), new long[] { rows });
        var y = (objective == TrainingObjective.CrossEntropy ? labels.to_type(ScalarType.Int64) : labels).to(device);
        var w = torch.tensor(batch.Weights.AsSpan(0, rows).ToArray(), new long[] { rows }).to(device);
        return (x, y, w);
    }

    /// <summary>Example-weighted mean of the per-row task loss.</summary>
    private static Tensor WeightedLoss(Tensor output, Tensor labels, Tensor weights, TrainingObjective objective)
    {
        Tensor perRow = objective switch
        {
            TrainingObjective.CrossEntropy => nn.functional.cross_entropy(output, labels, reduction: nn.Reduction.None),
            TrainingObjective.BinaryCrossEntropy => nn.functional.binary_cross_entropy_with_logits(output.squeeze(1), labels, reduction: nn.Reduction.None),
            _ => TensorNumberOps.Square(output.squeeze(1).sub(labels)),
        };
        return perRow.mul(weights).sum().div(TensorNumberOps.ClampMin(weights.sum(), 1e-12));
    }

    private static (double Loss, double Metric) Evaluate(MoENetwork network, ITrainingBatchSource data, NetworkTrainingSettings settings)
    {
        network.eval();
        using var noGrad = torch.no_grad();
        double lossSum = 0, weightSum = 0, metricSum = 0;
        foreach (var batch in data.GetBatches(data.EvaluationBatchSize(settings.BatchSize), null))
        {
            settings.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (x, y, w) = ToTensors(batch, settings.Objective, settings.Device);
            var output = network.forward(x);
            double batchWeight = w.sum().item<float>();
            lossSum += WeightedLoss(output, y, w, settings.Objective).item<float>() * batchWeight;
            weightSum += batchWeight;
            metricSum += settings.Objective switch
            {
                TrainingObjective.CrossEntropy => output.argmax(1).eq(y).to_type(ScalarType.Float32).mul(w).sum().item<float>(),
                TrainingObjective.BinaryCrossEntropy => TensorNumberOps.GreaterThan(output.squeeze(1), 0).to_type(ScalarType.Float32).eq(y).to_type(ScalarType.Float32).mul(w).sum().item<float>(),
                _ => TensorNumberOps.Square(output.squeeze(1).sub(y)).mul(w).sum().item<float>(),
            };
        }
        network.train();
        double loss = weightSum > 0 ? lossSum / weightSum : double.NaN;
        double metric = weightSum > 0 ? metricSum / weightSum : double.NaN;
        if (settings.Objective == TrainingObjective.SquaredError)
            metric = Math.Sqrt(metric) * settings.RegressionLabelScale;
        return (loss, metric);
    }

    /// <summary>Eval-mode pass over the training data: how the final model routes the data it learned from.</summary>
    private static IReadOnlyList<DynMoELayerRouting> MeasureRouting(MoENetwork network, ITrainingBatchSource data, NetworkTrainingSettings settings, List<int>[] history)
    {
        network.eval();
        var layers = network.MoELayers;
        foreach (var layer in layers)
            layer.ResetRoutingStatistics();
        using (torch.no_grad())
        {
            foreach (var batch in data.GetBatches(data.EvaluationBatchSize(settings.BatchSize), null))
            {
                settings.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                network.forward(ToTensors(batch, settings.Objective, settings.Device).X);
            }
        }

        var routing = new DynMoELayerRouting[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var statistics = layers[i].RoutingStatistics;
            routing[i] = new DynMoELayerRouting(
                layer: i,
                gating: layers[i].Options.Gating,
                initialExperts: layers[i].Options.Gating == GatingKind.Dense ? 1 : layers[i].Options.InitialExperts,
                activeExperts: layers[i].ActiveExpertCount,
                maximumExperts: layers[i].Options.SlotCount,
                meanActivatedExpertsPerToken: statistics.MeanActivatedExpertsPerToken,
                expertLoad: statistics.ExpertLoad,
                expertCountHistory: history[i].ToArray());
        }
        return routing;
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module network)
    {
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in network.state_dict())
        {
            using var detached = tensor.detach();
            copy[name] = detached.clone().DetachFromDisposeScope();
        }
        return copy;
    }

    private static void DisposeState(Dictionary<string, Tensor>? state)
    {
        if (state is null)
            return;
        foreach (var tensor in state.Values)
            tensor.Dispose();
    }
}
