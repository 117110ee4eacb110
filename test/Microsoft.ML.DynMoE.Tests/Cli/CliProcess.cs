using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML.DynMoE.Cli;

namespace Microsoft.ML.DynMoE.Tests.Cli;

/// <summary>Runs the <c>dynmoe</c> CLI in this process (captured output) or in a fresh one.</summary>
internal static class CliProcess
{
    /// <summary>Runs the CLI in this process and returns its exit code, standard output and standard error.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = DynMoECli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs dynmoe.dll from <paramref name="directory"/> (the test output folder or a copy of it) in a new process with that
    /// directory's runtime config and deps: a process that has loaded nothing of this one.
    /// </summary>
    public static (int Code, string Output) RunChild(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[]
        {
            "exec", "--runtimeconfig", Path.Combine(directory, "Microsoft.ML.DynMoE.Tests.runtimeconfig.json"),
            "--depsfile", Path.Combine(directory, "Microsoft.ML.DynMoE.Tests.deps.json"), Path.Combine(directory, "dynmoe.dll"),
        }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        using var child = Process.Start(start)!;
        var error = child.StandardError.ReadToEndAsync();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output + error.Result);
    }
}
