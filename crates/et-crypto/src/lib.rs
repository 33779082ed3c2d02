//! EasyTransfer envelope cryptography: AES-128-CBC, RSA key transport and signatures, notification MD5.
