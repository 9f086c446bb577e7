/** The `crikit` command line as a library: the program and the host checks of `crikit doctor`. */
export { createProgram } from './program.js';
export { connectCri, defaultSocket, type CriConnection } from './cri-connection.js';
export { runDoctor, formatDoctor, doctorExitCode } from './doctor/doctor.js';
export { Host, type CheckResult, type CommandOutput } from './doctor/host.js';
export { defaultDoctorOptions, readDoctorOptions, type DoctorOptions } from './doctor/doctor-options.js';
export { pullImage, type PullOptions } from './pull-command.js';
export { importArchive, type ImportOptions } from './import-command.js';
export { followEvents, formatEvent } from './events-command.js';
export { listImages } from './images-command.js';
