using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Tests.Foundation;
using Microsoft.ML.Model;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

[assembly: LoadableClass(typeof(ScaledSumModelParameters), null, typeof(SignatureLoadModel), "Scaled sum", ScaledSumModelParameters.LoaderSignature)]

namespace Microsoft.ML.DynMoE.Tests.Foundation;

/// <summary>
/// Proves approach A: a third-party assembly derives from ML.NET's internal model-parameter base, registers a loader
/// with [LoadableClass], and round-trips through mlContext.Model.Save/Load in a new MLContext without any registration.
/// </summary>
[TestClass]
public sealed class InternalsAccessTests
{
    private sealed class Row
    {
        [VectorType(3)] public float[] Features { get; set; } = Array.Empty<float>();
        public float Label { get; set; }
    }

    [TestMethod]
    public void LoadableModelParametersRoundTripThroughModelSaveInNewContext()
    {
        var rows = new[] { new Row { Features = new float[] { 1, 2, 3 } }, new Row { Features = new float[] { -1, 0.5f, 4 } } };
        var trainContext = new MLContext(seed: 1);
        IDataView data = trainContext.Data.LoadFromEnumerable(rows);
        var model = new ScaledSumModelParameters(trainContext, scale: 2.5f);
        var transformer = new RegressionPredictionTransformer<ScaledSumModelParameters>(trainContext, model, data.Schema, "Features");

        using var stream = new MemoryStream();
        trainContext.Model.Save(transformer, data.Schema, stream);
        stream.Position = 0;

        var loadContext = new MLContext(seed: 2);
        ITransformer loaded = loadContext.Model.Load(stream, out _);

        float[] scores = loaded.Transform(loadContext.Data.LoadFromEnumerable(rows)).GetColumn<float>("Score").ToArray();
        CollectionAssert.AreEqual(new[] { 15f, 8.75f }, scores);
        var loadedModel = ((RegressionPredictionTransformer<ScaledSumModelParameters>)loaded).Model;
        Assert.AreEqual(2.5f, loadedModel.Scale);
    }
}

/// <summary>Score = scale × sum(features). Deliberately trivial: the test is about ML.NET plumbing.</summary>
public sealed class ScaledSumModelParameters : ModelParametersBase<float>, IValueMapper
{
    internal const string LoaderSignature = "DynMoETestScaledSum";

    public ScaledSumModelParameters(IHostEnvironment env, float scale)
        : base(env, LoaderSignature) => Scale = scale;

    private ScaledSumModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx) => Scale = ctx.Reader.ReadSingle();

    public float Scale { get; }

    public DataViewType InputType { get; } = new VectorDataViewType(NumberDataViewType.Single);

    public DataViewType OutputType => NumberDataViewType.Single;

    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    private static VersionInfo GetVersionInfo() => new VersionInfo(
        modelSignature: "DMTSCSUM", verWrittenCur: 0x00010001, verReadableCur: 0x00010001, verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature, loaderAssemblyName: typeof(ScaledSumModelParameters).Assembly.FullName);

    internal static ScaledSumModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        return new ScaledSumModelParameters(env, ctx);
    }

    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(Scale);
    }

    public ValueMapper<TIn, TOut> GetMapper<TIn, TOut>()
    {
        ValueMapper<VBuffer<float>, float> map = (in VBuffer<float> src, ref float dst) =>
        {
            float sum = 0;
            foreach (float value in src.DenseValues())
                sum += value;
            dst = Scale * sum;
        };
        return (ValueMapper<TIn, TOut>)(Delegate)map;
    }
}
