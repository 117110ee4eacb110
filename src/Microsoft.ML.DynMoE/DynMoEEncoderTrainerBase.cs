using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Training;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the DynMoE text and image trainers share, as Microsoft.ML.TorchSharp's trainers share one base: schema and
/// label checks with errors that name the column and the fix, reading the examples into memory through the model
/// kind's input (tokens, patches), and the shared DynMoE Fit path on a Transformer encoder. A model kind adds only its
/// input featurization; the task (binary, multiclass) fixes the label and the output columns.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class DynMoEEncoderTrainerBase<TOptions> : IEstimator<DynMoEEncoderTransformer>
    where TOptions : DynMoEEncoderOptionsBase
{
    private readonly TOptions _options;

    private protected DynMoEEncoderTrainerBase(IHostEnvironment env, TOptions options, string name, ClassificationTask task)
    {
        Host = Contracts.CheckRef(env, nameof(env)).Register(name);
        if (options is null)
            throw new ArgumentNullException(nameof(options));
        options.Validate();
        _options = (TOptions)options.CloneOptions();
        Task = task;
    }

    private protected IHost Host { get; }

    /// <summary>The settings captured when the trainer was created (later changes to the caller's object do not apply).</summary>
    internal TOptions Settings => _options;

    private protected ClassificationTask Task { get; }

    /// <summary>Checks the model kind's input columns; throws naming the column and the fix.</summary>
    private protected abstract void CheckInputColumns(SchemaShape schema, string dataName);

    /// <summary>Fits the input featurization (vocabulary, pixel scale) on the training data.</summary>
    private protected abstract SequenceInput FitInput(IDataView trainData, IChannel channel, Action checkAlive);

    /// <summary>
    /// The network the shared loop trains on <paramref name="input"/>'s rows and how it is compiled for scoring; by
    /// default a Transformer trained from scratch on the options' shape (a pretrained text encoder overrides it).
    /// </summary>
    private protected virtual EncoderNetworkPlan PlanNetwork(SequenceInput input, int outputs, IChannel channel)
    {
        var encoderOptions = _options.ToEncoderOptions(outputs);
        return new EncoderNetworkPlan(
            generator => new TransformerEncoder(encoderOptions, input.CreateEmbedding(encoderOptions.Layer.ModelDimension, generator), generator),
            network => CompiledTransformerEncoder.FromNetwork((TransformerEncoder)network),
            $"{encoderOptions.NumberOfLayers} blocks ({encoderOptions.MoELayers} MoE), width {encoderOptions.Layer.ModelDimension}");
    }

    /// <summary>Optional training-time change of an example (e.g. a random shift of an image).</summary>
    private protected virtual Action<float[], Random>? CreateAugmentation(SequenceInput input) => null;

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public DynMoEEncoderTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, reporting validation loss on <paramref name="validationData"/> every epoch (and early-stopping on it when <c>EarlyStoppingPatience</c> is set).</summary>
    public DynMoEEncoderTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        Host.CheckValue(trainData, nameof(trainData));
        ValidateSchema(SchemaShape.Create(trainData.Schema), "training");
        if (validationData is not null)
        {
            ValidateSchema(SchemaShape.Create(validationData.Schema), "validation");
            var label = trainData.Schema[_options.LabelColumnName];
            if (!label.Type.Equals(validationData.Schema[_options.LabelColumnName].Type))
                throw new ArgumentOutOfRangeException(nameof(validationData),
                    $"Column '{label.Name}' is {validationData.Schema[label.Name].Type} in the validation data but {label.Type} in the training data. " +
                    "Apply the same fitted featurization (and the same MapValueToKey) to both.");
        }

        using var session = new FitSession(Host, _options, validationData is not null);
        var labelColumn = trainData.Schema[_options.LabelColumnName];
        int outputs = Task.OutputCount(labelColumn);
        string[] classNames = Task.ClassNames(labelColumn);

        // Held-out rows are chosen before the input is fitted, so neither the vocabulary nor the pixel scale sees them.
        SequenceBatchSource? validation = null;
        IDataView? heldOutData = null;
        if (validationData is null && _options.ValidationFraction > 0)
            (trainData, heldOutData) = HoldOut(trainData, session);

        var input = FitInput(trainData, session.Channel, session.CheckAlive);
        var train = ReadExamples(trainData, input, session, "training");
        CheckClasses(train.Labels, labelColumn);
        var plan = PlanNetwork(input, outputs, session.Channel);
        if (plan.MapRows is not null)
            train = (plan.MapRows(train.Rows, session.CheckAlive), train.Labels, train.Weights);

        var source = new SequenceBatchSource(train.Rows, train.Labels, train.Weights, CreateAugmentation(input));
        if (heldOutData is not null)
        {
            var examples = ReadExamples(heldOutData, input, session, "held-out validation");
            if (plan.MapRows is not null)
                examples = (plan.MapRows(examples.Rows, session.CheckAlive), examples.Labels, examples.Weights);
            // A held-out set without weight would give a NaN validation loss every epoch: train without it.
            if (examples.Weights.Sum(w => (double)w) > 0)
            {
                session.Channel.Info(MessageSensitivity.None, $"DynMoE: {examples.Rows.Count} examples held out for validation.");
                validation = new SequenceBatchSource(examples.Rows, examples.Labels, examples.Weights);
            }
            else
            {
                session.Channel.Warning(MessageSensitivity.None, $"DynMoE: the {examples.Rows.Count} examples held out for validation all have weight 0, so training runs without validation.");
            }
        }

        if (validationData is not null)
        {
            var examples = ReadExamples(validationData, input, session, "validation");
            if (plan.MapRows is not null)
                examples = (plan.MapRows(examples.Rows, session.CheckAlive), examples.Labels, examples.Weights);
            if (examples.Rows.Count == 0)
                throw new InvalidOperationException("The validation data has no usable rows. Pass validation rows with a label, or call Fit(trainData) alone.");
            validation = new SequenceBatchSource(examples.Rows, examples.Labels, examples.Weights);
        }

        session.Channel.Info(MessageSensitivity.None, $"DynMoE encoder: {train.Rows.Count} examples, longest {source.FeatureCount} values, {plan.Description}.");
        var trained = session.Train(Task.Objective, source, validation, plan.Create, plan.Compile,
            describeEpoch: () => $"padding {source.PaddingFraction:P1}", pretrainedLearningRateMultiplier: plan.PretrainedLearningRateMultiplier);
        session.Channel.Info(MessageSensitivity.None, $"DynMoE padding fraction over training batches: {source.PaddingFraction:P1}.");

        // Routed states: every token (and [CLS]), or one per row when the network reads mapped rows.
        long tokens = plan.MapRows is not null ? train.Rows.Count : train.Rows.Sum(r => (long)r.Length) + (trained.Network.UsesClassToken ? train.Rows.Count : 0);
        var model = new DynMoEEncoderModelParameters(Host, Task, input, trained.Network, new DynMoERoutingSummary(trained.Routing, tokens), classNames);
        return new DynMoEEncoderTransformer(Host, model);
    }

    /// <summary>Checks the input columns and returns the output schema.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        ValidateSchema(inputSchema, "input");
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var column in Task.OutputSchema(inputSchema, _options.LabelColumnName))
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    private void ValidateSchema(SchemaShape schema, string dataName)
    {
        CheckInputColumns(schema, dataName);
        string name = _options.LabelColumnName;
        if (!schema.TryFindColumn(name, out var label))
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{name}' was not found in the {dataName} data. Set LabelColumnName to the column that holds the label.");
        Task.CheckLabel(label);
        ColumnChecks.CheckWeight(schema, _options.ExampleWeightColumnName, dataName);
    }

    private void CheckClasses(float[] labels, DataViewSchema.Column label)
    {
        if (labels.Length == 0)
            throw new InvalidOperationException(
                $"The training data has no usable rows. Check that '{label.Name}' holds values and that no filter in front of the trainer removed every row.");
        if (labels.Distinct().Count() < 2)
            throw new InvalidOperationException(Task.SingleClassMessage(label.Name, labels[0]));
    }

    private (List<float[]> Rows, float[] Labels, float[] Weights) ReadExamples(IDataView data, SequenceInput input, FitSession session, string dataName)
    {
        var columns = input.ColumnNames.Select(n => data.Schema[n]).ToList();
        var label = data.Schema[_options.LabelColumnName];
        columns.Add(label);
        DataViewSchema.Column? weight = _options.ExampleWeightColumnName is string w ? data.Schema[w] : null;
        if (weight is DataViewSchema.Column wc)
            columns.Add(wc);

        var rows = new List<float[]>();
        var labels = new List<float>();
        var weights = new List<float>();
        long missingLabels = 0, invalidWeights = 0, nonFinite = 0;
        using var cursor = data.GetRowCursor(columns);
        var reader = input.CreateReader(cursor);
        var labelGetter = Task.CreateLabelGetter(cursor, label);
        var weightGetter = weight is DataViewSchema.Column wcol ? cursor.GetGetter<float>(wcol) : null;
        var buffer = new float[input.MaximumWidth];
        float labelValue = 0, weightValue = 1;
        while (cursor.MoveNext())
        {
            if ((rows.Count & 255) == 0)
                session.CheckAlive();
            labelGetter(ref labelValue);
            if (float.IsNaN(labelValue))
            {
                missingLabels++;
                continue;
            }

            weightValue = 1;
            weightGetter?.Invoke(ref weightValue);
            if (!(weightValue >= 0) || float.IsInfinity(weightValue))
            {
                invalidWeights++;
                continue;
            }

            Array.Clear(buffer);
            int length = reader(buffer);
            var row = buffer.AsSpan(0, length);
            int bad = FirstNonFinite(row);
            if (bad >= 0)
            {
                if (!_options.SkipRowsWithNonFiniteFeatures)
                    throw ColumnChecks.NonFiniteInput(input.ColumnNames[0], row[bad], RowSubsetDataView.SourcePosition(cursor), bad);
                nonFinite++;
                continue;
            }

            rows.Add(row.ToArray());
            labels.Add(labelValue);
            weights.Add(weightValue);
        }

        session.LogSkippedRows(dataName, missingLabels, nonFinite, invalidWeights);
        return (rows, labels.ToArray(), weights.ToArray());
    }

    /// <summary>
    /// Splits <paramref name="data"/> into the rows to train on and the rows <c>ValidationFraction</c> holds out, by the
    /// positions of the rows with a usable label and weight (the others stay with training, whose reader skips them);
    /// (data, null) when too few rows qualify.
    /// </summary>
    private (IDataView Train, IDataView? HeldOut) HoldOut(IDataView data, FitSession session)
    {
        var label = data.Schema[_options.LabelColumnName];
        var columns = new List<DataViewSchema.Column> { label };
        DataViewSchema.Column? weight = _options.ExampleWeightColumnName is string w ? data.Schema[w] : null;
        if (weight is DataViewSchema.Column wc)
            columns.Add(wc);
        var labels = new List<float>();
        using (var cursor = data.GetRowCursor(columns))
        {
            var labelGetter = Task.CreateLabelGetter(cursor, label);
            var weightGetter = weight is DataViewSchema.Column wcol ? cursor.GetGetter<float>(wcol) : null;
            float value = 0, weightValue = 1;
            while (cursor.MoveNext())
            {
                if ((labels.Count & 1023) == 0)
                    session.CheckAlive();
                labelGetter(ref value);
                weightValue = 1;
                weightGetter?.Invoke(ref weightValue);
                labels.Add(float.IsNaN(value) || !(weightValue >= 0) || float.IsInfinity(weightValue) ? float.NaN : value);
            }
        }

        if (session.PlanHoldOut(false, labels.Count(l => !float.IsNaN(l)), stratify: true) is not ValidationSplit split)
            return (data, null);
        var isHeldOut = split.StartPass();
        var heldOut = labels.Select(l => !float.IsNaN(l) && isHeldOut(l)).ToArray();
        return (new RowSubsetDataView(data, heldOut.Select(h => !h).ToArray()), new RowSubsetDataView(data, heldOut));
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return i;
        }

        return -1;
    }
}

/// <summary>What an encoder trainer trains: the network's factory, its compiler for scoring, and a log description.</summary>
/// <param name="Create">Builds the network from the seeded generator.</param>
/// <param name="Compile">Copies the trained network into the managed scorer.</param>
/// <param name="Description">Shape for the log.</param>
/// <param name="PretrainedLearningRateMultiplier">Learning-rate multiplier of the network's pretrained parameters.</param>
/// <param name="MapRows">When set, turns the featurized rows into what the network trains on, once before training (e.g. a frozen encoder's sentence embeddings; each becomes one routed state).</param>
internal sealed record EncoderNetworkPlan(
    Func<TorchSharp.torch.Generator, MoENetwork> Create, Func<MoENetwork, ICompiledSequenceEncoder> Compile, string Description, double PretrainedLearningRateMultiplier = 1,
    Func<List<float[]>, Action, List<float[]>>? MapRows = null);
