// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AnchorRegistry: consortium gateways anchor the signed tree heads of their ledgers.
/// @notice The admin admits a gateway by its ledger key (the Ed25519 public key that signs its
/// tree heads) together with the EVM account that submits its anchors. Per gateway and chain,
/// anchored tree sizes strictly grow: an anchor at or below the latest size is refused, so the
/// same tree head can never be anchored twice and a shrunk (rewritten) log cannot be anchored.
/// The STH signature is stored in the event only: anyone can check it off-chain against the
/// ledger key, together with a consistency proof from the gateway's log.
contract AnchorRegistry {
    struct Anchor {
        bytes32 chain; // ledger chain name, ASCII, right-padded with zeros ("tracing", "notification")
        uint64 treeSize;
        bytes32 rootHash;
        uint64 timestampMs; // the STH's fields, so its signature can be checked from chain data alone
        uint64 blockHeight;
        bytes signature; // Ed25519 over the STH signing bytes, 64 bytes
    }

    struct Latest {
        uint64 treeSize;
        uint64 timestampMs;
        uint64 blockHeight;
        bytes32 rootHash;
    }

    address public admin;
    mapping(bytes32 ledgerKey => address account) public accountOf;
    mapping(address account => bytes32 ledgerKey) public gatewayOf;
    mapping(bytes32 ledgerKey => mapping(bytes32 chain => Latest)) internal latest_;

    event AdminChanged(address indexed previous, address indexed admin);
    event GatewayAdmitted(bytes32 indexed ledgerKey, address indexed account);
    event GatewayRevoked(bytes32 indexed ledgerKey, address indexed account);
    event Anchored(
        bytes32 indexed ledgerKey, bytes32 indexed chain, uint64 treeSize, bytes32 rootHash,
        uint64 timestampMs, uint64 blockHeight, bytes signature
    );

    error NotAdmin(address caller);
    error NotAdmitted(address caller);
    error AlreadyAdmitted(bytes32 ledgerKey, address account);
    error NotNewer(bytes32 ledgerKey, bytes32 chain, uint64 treeSize, uint64 latestTreeSize);
    error BadSignatureLength(uint256 length);
    error ZeroKey();

    constructor() {
        admin = msg.sender;
        emit AdminChanged(address(0), msg.sender);
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    function setAdmin(address next) external onlyAdmin {
        emit AdminChanged(admin, next);
        admin = next;
    }

    /// Admits `ledgerKey`, submitting from `account`. Re-admitting a key with another account
    /// rotates the submitting account (the old one loses the right); an account serves one key.
    function admit(bytes32 ledgerKey, address account) external onlyAdmin {
        if (ledgerKey == bytes32(0) || account == address(0)) revert ZeroKey();
        bytes32 held = gatewayOf[account];
        if (held != bytes32(0)) revert AlreadyAdmitted(held, account);
        address old = accountOf[ledgerKey];
        if (old != address(0)) {
            delete gatewayOf[old];
            emit GatewayRevoked(ledgerKey, old);
        }
        accountOf[ledgerKey] = account;
        gatewayOf[account] = ledgerKey;
        emit GatewayAdmitted(ledgerKey, account);
    }

    /// Revokes a gateway: its account can no longer anchor; its anchors stay.
    function revoke(bytes32 ledgerKey) external onlyAdmin {
        address old = accountOf[ledgerKey];
        if (old == address(0)) revert NotAdmitted(address(0));
        delete accountOf[ledgerKey];
        delete gatewayOf[old];
        emit GatewayRevoked(ledgerKey, old);
    }

    /// Anchors one or more tree heads of the caller's ledger (several chains, or several sizes of
    /// one chain in increasing order). All or nothing: one stale size reverts the whole call.
    function anchor(Anchor[] calldata anchors) external {
        bytes32 key = gatewayOf[msg.sender];
        if (key == bytes32(0)) revert NotAdmitted(msg.sender);
        for (uint256 i = 0; i < anchors.length; i++) {
            Anchor calldata a = anchors[i];
            if (a.signature.length != 64) revert BadSignatureLength(a.signature.length);
            Latest storage l = latest_[key][a.chain];
            if (a.treeSize <= l.treeSize) revert NotNewer(key, a.chain, a.treeSize, l.treeSize);
            l.treeSize = a.treeSize;
            l.timestampMs = a.timestampMs;
            l.blockHeight = a.blockHeight;
            l.rootHash = a.rootHash;
            emit Anchored(key, a.chain, a.treeSize, a.rootHash, a.timestampMs, a.blockHeight, a.signature);
        }
    }

    /// The newest anchored tree head of a gateway's chain (treeSize 0: none yet).
    function latest(bytes32 ledgerKey, bytes32 chain) external view returns (Latest memory) {
        return latest_[ledgerKey][chain];
    }
}
